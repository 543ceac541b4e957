// End to end: the citizen page of the real demo, started with the README's
// run command (`cargo xtask demo`, which binds devices), on a small phone's
// screen, in one of three engines through WebDriver (ENGINE=chromium,
// firefox or webkit: the client is verifier/web/tests/e2e/webdriver.mjs).
// A demo citizen logs in; the page makes its device key, binds it, and
// shows a live code (SP2:) that it re-signs every 10 s; a screenshot of it
// is read back by `sealpass-verifier scan` against the lists the demo
// serves (synced from the demo's root-set file) and decides VALID and
// holder-bound, and the same screenshot with the verifier's clock 61 s
// later is refused as too old; the web verifier the same command serves at
// /verify/ syncs and decides VALID, holder-bound, on the typed code; the
// pass text taken to a second browser profile gives no code a checkpoint
// accepts, and there a phone without Ed25519 binds a P-256 key whose codes
// verify; then the server is stopped and a reload still shows live codes
// the command line accepts. Screenshots go to
// docs/screenshots/citizen-page*.png (citizen-page-ENGINE.png for Firefox
// and WebKitGTK). The page's uncaught errors are kept by the page's first
// script, errors.js, and read here (WebDriver has no page-error event).
//
//   (cd issuer/web/tests/e2e && npm ci && ENGINE=chromium npm test)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ENGINE, freePort, launch, missing, pause } from '../../../../verifier/web/tests/e2e/webdriver.mjs';
import { base45Decode, base45Encode, liveCodeText, signingInput } from '../../page/live.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../../..');
const screenshots = join(repo, 'docs/screenshots');
const out = join(here, 'out', ENGINE);
const targetDir = process.env.CARGO_TARGET_DIR || join(repo, 'target');
const verifierBin = join(targetDir, 'debug/sealpass-verifier');

let work;
let demo;
let base;
let roots;
let page;
let listen;
let firstPhoneDone = false; // test 3 goes on from where test 2 left the first phone
const serverLog = [];

/**
 * Start the demo with the README's run command on free ports; resolve once
 * its banner is printed. `cargo xtask demo` becomes the demo's own process
 * (exec), so the child's SIGTERM reaches it.
 */
function startDemo(dataDir) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('cargo', [
      'xtask', 'demo', '--data-dir', dataDir, '--listen', listen, '--admin-listen', '127.0.0.1:0', '--citizens', '300',
      // Three browsers and the command line share 127.0.0.1 here, where
      // phones would each have an address of their own.
      '--client-rate', '50', '--client-burst', '200',
    ], { cwd: repo, env: { ...process.env, SEALPASS_LOG: process.env.E2E_SERVER_LOG || 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = [];
    // The server's log, shown if the test fails.
    createInterface({ input: child.stderr }).on('line', (line) => serverLog.push(line));
    // Bounded, and long enough to build the web verifier if it is not built yet.
    const timeout = setTimeout(() => reject(new Error(`the demo did not start: ${lines.join('\n')}\n${serverLog.slice(-20).join('\n')}`)), 600_000);
    child.on('exit', (code) => {
      clearTimeout(timeout);
      reject(new Error(`the demo exited with ${code}: ${lines.join('\n')}\n${serverLog.slice(-20).join('\n')}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (line.startsWith('Ctrl-C stops')) {
        clearTimeout(timeout);
        const field = (name) => lines.map((l) => l.trim()).find((l) => l.startsWith(name)).slice(name.length).trim();
        resolvePromise({
          child, lines, base: field('citizen page'), verifierPage: field('web verifier'), roots: field('roots').split(/\s+/)[0],
        });
      }
    });
  });
}

function stopDemo(child) {
  return new Promise((resolvePromise) => {
    if (child.exitCode !== null) return resolvePromise(child.exitCode);
    child.removeAllListeners('exit');
    child.on('exit', (code) => resolvePromise(code));
    child.kill('SIGTERM');
  });
}

function verifier(...args) {
  return execFileSync(verifierBin, ['--state-dir', join(work, 'checkpoint'), ...args], { encoding: 'utf8' });
}

/**
 * The verifier's JSON verdict on `args` (exit 1, not valid, is a verdict
 * too), with its clock pinned to `now` (Unix seconds; debug builds honour
 * SEALPASS_TEST_NOW) in a copy of the checkpoint's state, so that the
 * pinned time is not remembered as the newest time seen.
 */
function verdictOf(args, { now } = {}) {
  let stateDir = join(work, 'checkpoint');
  const env = { ...process.env };
  if (now !== undefined) {
    stateDir = join(work, `checkpoint-at-${now}`);
    rmSync(stateDir, { recursive: true, force: true });
    cpSync(join(work, 'checkpoint'), stateDir, { recursive: true });
    env.SEALPASS_TEST_NOW = String(now);
  }
  let stdout;
  try {
    stdout = execFileSync(verifierBin, ['--state-dir', stateDir, '--json', ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if (error.status !== 1) throw new Error(`sealpass-verifier ${args.join(' ')}: exit ${error.status}: ${error.stdout}${error.stderr}`);
    stdout = error.stdout;
  }
  return JSON.parse(stdout.trim().split('\n')[0]);
}

/** The envelope of an `SP2:` text: `{ pass, t, signature }` (docs/format.md §9). */
function envelopeOf(text) {
  assert.ok(text.startsWith('SP2:'), text.slice(0, 8));
  const bytes = base45Decode(text.slice(4));
  assert.equal(bytes[0], 0x83, 'an array of three');
  let at = 1;
  const length = (major) => {
    const first = bytes[at];
    assert.equal(first >> 5, major);
    const info = first & 31;
    at += 1;
    if (info < 24) return info;
    let n = 0;
    for (let i = 0; i < 2 ** (info - 24); i += 1) n = n * 256 + bytes[at + i];
    at += 2 ** (info - 24);
    return n;
  };
  const passLength = length(2);
  const pass = bytes.subarray(at, at + passLength);
  at += passLength;
  const t = length(0);
  assert.equal(length(2), 64);
  const signature = bytes.subarray(at, at + 64);
  assert.equal(at + 64, bytes.length, 'nothing after the signature');
  return { pass, t, signature };
}

/** docs/format.md's annotated hex between `<!-- name:begin -->` and its end, as bytes. */
function docHex(name) {
  const doc = readFileSync(join(repo, 'docs/format.md'), 'utf8');
  const block = doc.split(`<!-- ${name}:begin -->`)[1].split(`<!-- ${name}:end -->`)[0];
  const hex = block.split('\n').filter((line) => !line.startsWith('```')).map((line) => line.split('#')[0]).join('').replace(/\s+/g, '');
  return Uint8Array.from(hex.match(/../g), (byte) => parseInt(byte, 16));
}

test('the page writes docs/format.md\'s live code byte for byte (no browser)', async () => {
  const example = docHex('live-code-example');
  const { pass, t, signature } = envelopeOf(`SP2:${base45Encode(example)}`);
  assert.equal(t, 1795218007);
  assert.equal(liveCodeText(pass, t, signature), `SP2:${base45Encode(example)}`);
  assert.deepEqual(await signingInput(pass, t), docHex('live-code-signing-input'));
});

before(async () => {
  assert.deepEqual(missing(), [], `${ENGINE} is not installed: run scripts/install-test-deps (and scripts/test installs geckodriver)`);
  // Each as `cargo run` builds it, so that starting the demo compiles nothing.
  for (const pkg of ['sealpass-issuer', 'sealpass-verifier']) {
    execFileSync('cargo', ['build', '--locked', '--quiet', '-p', pkg], { cwd: repo, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  mkdirSync(screenshots, { recursive: true });
  work = mkdtempSync(join(tmpdir(), 'sealpass-citizen-e2e-'));
  // A fixed port, so that the demo comes back on the same origin.
  listen = `127.0.0.1:${await freePort()}`;
  demo = await startDemo(join(work, 'demo'));
  base = demo.base;
  roots = demo.roots;
  // The web verifier at /verify/ asks for a camera: each engine's fake one.
  page = await launch({ profileDir: ENGINE === 'webkit' ? undefined : join(work, `${ENGINE}-profile`), width: 360, height: 780, mobile: true });
});

after(async () => {
  if (page) await page.quit();
  if (demo) await stopDemo(demo.child);
  if (work) rmSync(work, { recursive: true, force: true });
});

/** How many dark pixels the QR canvas holds (0 for a blank one). */
function darkPixels(browser = page) {
  return browser.run(() => {
    const canvas = document.getElementById('qr');
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let dark = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] < 64 && data[i + 3] > 0) dark += 1;
    return dark / (canvas.width * canvas.height);
  });
}

/** The page's uncaught errors since it loaded, kept by its first script (errors.js). */
async function pageErrors(browser = page) {
  return browser.run(() => globalThis.sealpassPageErrors || ['errors.js did not run']);
}

const qrText = () => page.run(() => document.getElementById('qr').dataset.text);

/** Wait for a live code signed at `after` (Unix seconds) or later; its text. */
function liveCode(after = 0, timeout = 60_000) {
  return page.waitFor((since) => {
    const text = document.querySelector('#qr')?.dataset.text || '';
    return text.startsWith('SP2:') && document.documentElement.dataset.e2eLiveAfter !== text
      && (since === 0 || Date.now() / 1000 >= since) ? text : false;
  }, [after], { timeout, message: `a live code (SP2:) signed at ${after} or later` });
}

/** This page's device key, as the page made it: `{ type, passKey, extractable }`. */
function pageKey(browser = page) {
  return browser.run(async () => {
    const { deviceKey } = await import('/device.js');
    const key = await deviceKey();
    let exported = 'exported';
    try {
      await crypto.subtle.exportKey('pkcs8', key.privateKey);
    } catch (error) {
      exported = error.name;
    }
    return { type: key.type, passKey: key.passKey, extractable: key.privateKey.extractable, exported };
  });
}

/** Reload `browser`'s page and wait until the new document answers. */
async function reloadOnly(browser) {
  await browser.run(() => { document.documentElement.dataset.e2eOld = 'true'; });
  await browser.reload();
  await browser.waitFor(() => document.readyState !== 'loading' && !document.documentElement.dataset.e2eOld, [], { message: 'the reloaded page' });
}

/** Reload as a person does, and wait for the new page's live code. */
async function reload() {
  const at = Math.floor(Date.now() / 1000);
  await page.run(() => { document.documentElement.dataset.e2eOld = 'true'; });
  await page.reload();
  const text = await page.waitFor(() => !document.documentElement.dataset.e2eOld && document.querySelector('#qr')?.dataset.text?.startsWith('SP2:')
    && document.querySelector('#qr').dataset.text, [], { message: 'the reloaded live code' });
  assert.ok(envelopeOf(text).t >= at - 1, 'the reloaded page signed a new code');
  return text;
}

test('log in, the page binds this phone and shows a live code that verifies; a copied pass does not; offline it goes on', { timeout: 240_000 }, async () => {
  const errors = [];
  const step = async (what, promise) => {
    try {
      return await promise;
    } catch (error) {
      writeFileSync(join(out, 'server.log'), serverLog.join('\n'));
      throw new Error(`${what}: ${error.message}\npage errors: ${[...errors, ...await pageErrors().catch(() => [])].join('; ')}\nserver log (all of it in out/server.log):\n${serverLog.slice(-40).join('\n')}`);
    }
  };
  const timings = {};
  const started = Date.now();

  await page.goto(base);
  // Landmarks and live regions for screen readers.
  assert.equal(await page.count('header, main, footer'), 3);
  assert.equal(await page.attribute('#status', 'aria-live'), 'polite');
  await step('the demo banner', page.waitForSelector('#demo-banner:not([hidden])'));

  // Log in as the first demo citizen (green). The page makes its key, binds
  // it (the demo binds devices), and the signer signs the bound pass.
  await page.waitForSelector('#demo-citizens button');
  assert.match(await page.text('#demo-citizens button'), /Log in as .+ \(GREEN\)/);
  const loggedIn = Date.now();
  await page.click('#demo-citizens button');
  const first = await step('the live code after binding', liveCode());
  timings.login_to_live_code_ms = Date.now() - loggedIn;
  const key = await pageKey();
  console.log(`# ${ENGINE}: device key ${key.type}, login to live code ${timings.login_to_live_code_ms} ms`);
  assert.ok(['Ed25519', 'P-256'].includes(key.type), key.type);
  assert.equal(key.extractable, false, 'the private key is not extractable');
  assert.notEqual(key.exported, 'exported', 'the private key cannot be exported');
  assert.match(await page.text('#code-kind'), /^Live code: signed by this phone, refreshes every 10 s$/);

  // The page shows what the API serves for this login: the pass bound to its key.
  const token = await page.run(() => localStorage.getItem('sealpass.token'));
  const api = await (await fetch(`${base}api/v1/pass`, { headers: { Authorization: `Bearer ${token}` } })).json();
  assert.equal(api.holder_bound, true);
  assert.equal(api.holder_key_type, key.type);
  assert.equal(api.holder_key, key.passKey, 'the pass carries this page\'s key');
  const saved = await page.run(() => JSON.parse(localStorage.getItem('sealpass.pass')));
  assert.equal(saved.pass, api.pass);
  const code = envelopeOf(first);
  assert.equal(`SP1:${base45Encode(code.pass)}`, api.pass, 'the live code carries the pass as issued');
  assert.ok(Math.abs(code.t - Date.now() / 1000) < 15, `t ${code.t} is now`);
  assert.equal(await page.text('#pass-text'), first, 'the text for a checkpoint that types it is the live code');
  assert.equal(await page.text('#name'), api.masked_name);
  assert.equal(await page.text('#id-number'), api.masked_id);
  assert.equal(await page.text('#band-word'), 'GREEN');
  assert.match(await page.attribute('#band', 'class'), /\bgreen\b/);
  // The vaccination and test lines, as the pass says them.
  const doses = api.vaccination.doses === 1 ? '1 dose' : `${api.vaccination.doses} doses`;
  assert.equal(await page.text('#vaccine'),
    api.vaccination.last_dose ? `${doses}, last ${api.vaccination.last_dose}` : doses);
  assert.match(await page.text('#test'),
    api.test ? new RegExp(`^${api.test.result === 'negative' ? 'negative' : 'POSITIVE'}, \\d+ (min|h|d) ago$`) : /^none on the pass$/);
  assert.match(await page.attribute('#qr', 'aria-label'), /Live QR code of your GREEN pass/);
  const dark = await darkPixels();
  assert.ok(dark > 0.2 && dark < 0.7, `the QR canvas is drawn (${dark} dark)`);
  assert.ok(await page.run(() => document.getElementById('clock-warning').hidden), 'no clock warning: the clocks agree');

  // The clock moves, and the code is signed again within 10 s (a new t).
  const t0 = await page.text('#clock-time');
  await pause(1300);
  assert.notEqual(await page.text('#clock-time'), t0, 'the clock ticks');
  await page.run((text) => { document.documentElement.dataset.e2eLiveAfter = text; }, first);
  const renewed = await step('the code re-signed', liveCode(0, 15_000));
  assert.ok(envelopeOf(renewed).t > code.t, 'a new t');
  assert.deepEqual(envelopeOf(renewed).pass, code.pass, 'around the same pass');

  // The viewport (WebDriver has no full-page screenshot in every engine).
  await page.screenshot(join(screenshots, ENGINE === 'chromium' ? 'citizen-page.png' : `citizen-page-${ENGINE}.png`));

  // A checkpoint reads the live code from the screen and decides VALID,
  // holder-bound, with the demo's lists, pinned from its root-set file.
  const qrShot = join(out, 'qr.png');
  await page.elementScreenshot('#qr', qrShot);
  verifier('sync', '--from', base, '--roots', roots);
  const verdict = verdictOf(['scan', qrShot]);
  assert.equal(verdict.verdict, 'valid', JSON.stringify(verdict));
  assert.equal(verdict.holder_bound, true, JSON.stringify(verdict));
  assert.equal(verdict.masked_name, api.masked_name);
  assert.equal(verdict.revocation_checked, true);
  // The same screenshot a minute and a second after it was signed: too old.
  const later = verdictOf(['scan', qrShot], { now: verdict.live_code_signed_at + 61 });
  assert.equal(later.code, 'live_code_too_old', JSON.stringify(later));
  // Shown bare, the bound pass is refused: only the phone's code gets through.
  assert.equal(verdictOf(['verify', api.pass]).code, 'bound_pass_not_live');

  // The web verifier the same command serves at /verify/ syncs the demo's
  // lists (pinning its roots.cbor) and decides VALID, holder-bound, on the
  // live code typed in as the page shows it now.
  assert.equal(demo.verifierPage, `${base}verify/`, 'the banner says the web verifier is served');
  const citizenTab = await page.window();
  const verifierTab = await page.newTab();
  await page.switchTo(verifierTab);
  await page.goto(demo.verifierPage);
  await step('the web verifier is ready', page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 }));
  await page.switchTo(citizenTab);
  const typed = await qrText();
  await page.switchTo(verifierTab);
  await page.click('summary', { text: 'Type or paste a pass' });
  await page.fill('#pass-text', typed);
  await page.click('#typed button[type="submit"]');
  await step('the web verifier\'s verdict', page.waitForSelector('#verdict:not([hidden])', { timeout: 30_000 }));
  const seen = await page.run(() => globalThis.sealpassLastVerdict);
  assert.equal(seen.code, 'valid', JSON.stringify(seen));
  assert.equal(seen.holder_bound, true, JSON.stringify(seen));
  assert.equal(seen.masked_name, api.masked_name);
  // The web verifier's own page errors are its suite's (verifier/web/tests/e2e).
  await page.closeTab();
  await page.switchTo(citizenTab);

  // The pass text carried to another browser profile (another phone, or
  // this phone's storage copied out): that profile has a key of its own
  // and this one's cannot be exported, so the copy makes no code a
  // checkpoint accepts. The page there shows no code; a code signed there
  // with the page's own functions is refused as from another phone.
  const copied = Date.now();
  const other = await launch({ profileDir: ENGINE === 'webkit' ? undefined : join(work, `${ENGINE}-second-profile`), width: 360, height: 780, mobile: true });
  try {
    await other.goto(base);
    await other.waitForSelector('#login:not([hidden])');
    await other.run((savedPass) => { localStorage.setItem('sealpass.pass', savedPass); }, JSON.stringify(saved));
    await reloadOnly(other);
    await other.waitFor(() => document.getElementById('code-kind')?.classList.contains('other'), [], { message: 'the copied pass, refused here' });
    assert.equal(await other.run(() => document.getElementById('qr').dataset.text), '', 'no code is shown for a pass bound to another key');
    assert.equal(await darkPixels(other), 0, 'the QR is blank');
    assert.match(await other.text('#code-kind'), /tied to another phone/);
    assert.equal(await other.text('#band-word'), 'GREEN · ON ANOTHER PHONE', 'its colour greyed');
    assert.match(await other.attribute('#band', 'class'), /\belsewhere\b/);
    const otherKey = await pageKey(other);
    assert.notEqual(otherKey.passKey, key.passKey, 'another profile, another key');
    const forged = await other.run(async (passText) => {
      const live = await import('/live.js');
      const device = await import('/device.js');
      const own = await device.deviceKey();
      const bytes = await live.passBytes(passText);
      return (await live.makeLiveCode(bytes, own.type, (input) => device.sign(own, input))).text;
    }, saved.pass);
    const refused = verdictOf(['verify', forged]);
    assert.equal(refused.code, 'wrong_device', JSON.stringify(refused));

    // The same profile as a phone without WebCrypto Ed25519 (older iOS
    // Safari, in-app browsers; no engine here lacks it): its key is made
    // anew with Ed25519 refused, so the page falls back to P-256, and a
    // second citizen logs in there. The page binds the P-256 key, and its
    // codes (ECDSA signatures with either half of s, made low by the
    // page) verify.
    const p256 = await other.run(async () => {
      localStorage.clear();
      await new Promise((done, fail) => {
        const request = indexedDB.deleteDatabase('sealpass-device');
        request.onsuccess = done;
        request.onerror = () => fail(request.error);
        request.onblocked = () => fail(new Error('blocked'));
      });
      const generate = window.SubtleCrypto.prototype.generateKey;
      window.SubtleCrypto.prototype.generateKey = function withoutEd25519(algorithm, ...rest) {
        if ((algorithm.name || algorithm) === 'Ed25519') return Promise.reject(new DOMException('no Ed25519', 'NotSupportedError'));
        return generate.call(this, algorithm, ...rest);
      };
      const { deviceKey } = await import('/device.js');
      return (await deviceKey()).type;
    });
    assert.equal(p256, 'P-256');
    await reloadOnly(other);
    await other.waitForSelector('#demo-citizens li:nth-child(2) button').catch(async (error) => {
      const state = await other.run(() => ({
        ready: document.readyState,
        login: !document.getElementById('login').hidden,
        demo: !document.getElementById('login-demo').hidden,
        citizens: document.getElementById('demo-citizens').childElementCount,
        message: document.getElementById('login-message').textContent,
        status: document.getElementById('status').textContent,
        errors: globalThis.sealpassPageErrors || document.documentElement.dataset.e2eErrors,
        storage: Object.keys(localStorage),
        worker: navigator.serviceWorker.controller?.scriptURL,
      })).catch((e) => e.message);
      throw new Error(`${error.message}; the second profile's page: ${JSON.stringify(state)}`);
    });
    // A second green citizen (the checkpoint's default policy admits green).
    assert.ok(await other.run(() => {
      const green = [...document.querySelectorAll('#demo-citizens button.green')][1];
      if (green) green.dataset.e2ePick = 'true';
      return !!green;
    }), 'a second green demo citizen');
    // First as if this node of the issuer did not bind devices (a
    // configuration rolled out to part of the nodes): the challenge is
    // answered 403 binding_disabled. The page shows the pass as it always
    // did, and a checkpoint accepts it, not holder-bound.
    await other.run(() => {
      const real = window.fetch;
      window.sealpassE2eFetch = real;
      window.fetch = (input, init) => (String(input).includes('/api/v1/device/challenge')
        ? Promise.resolve(new Response(JSON.stringify({ error: 'binding_disabled', message: 'this issuer does not bind devices (yet)' }), { status: 403, headers: { 'Content-Type': 'application/json' } }))
        : real(input, init));
    });
    await other.click('#demo-citizens button[data-e2e-pick]');
    const plain = await other.waitFor(() => {
      const text = document.querySelector('#qr')?.dataset.text || '';
      return text.startsWith('SP1:') && localStorage.getItem('sealpass.binding-off-until') && text;
    }, [], { message: 'the plain pass, binding refused' });
    assert.equal(await other.text('#code-kind'), 'Pass (not tied to a phone)');
    assert.equal(await other.run(() => document.getElementById('holder-note').hidden), true, 'nothing to worry the citizen with');
    const plainVerdict = verdictOf(['verify', plain]);
    assert.equal(plainVerdict.verdict, 'valid', JSON.stringify(plainVerdict));
    assert.equal(plainVerdict.holder_bound, false);
    // The issuer binds again (the page would ask again after an hour): it binds.
    await other.run(() => {
      window.fetch = window.sealpassE2eFetch;
      localStorage.removeItem('sealpass.binding-off-until');
    });
    await other.click('#refresh');
    const p256Code = await step('the P-256 live code', other.waitFor(() => {
      const text = document.querySelector('#qr')?.dataset.text || '';
      return text.startsWith('SP2:') && text;
    }, [], { timeout: 60_000, message: 'a P-256 live code' }));
    const p256Key = await pageKey(other);
    assert.equal(p256Key.type, 'P-256');
    assert.equal(p256Key.extractable, false);
    const secondToken = await other.run(() => localStorage.getItem('sealpass.token'));
    const secondApi = await (await fetch(`${base}api/v1/pass`, { headers: { Authorization: `Bearer ${secondToken}` } })).json();
    assert.equal(secondApi.holder_key_type, 'P-256');
    assert.equal(secondApi.holder_key, p256Key.passKey, 'the pass carries the compressed P-256 key');
    const p256Verdict = verdictOf(['verify', p256Code]);
    assert.equal(p256Verdict.verdict, 'valid', JSON.stringify(p256Verdict));
    assert.equal(p256Verdict.holder_bound, true);
    // Eight more codes from the page's functions and key, a second apart:
    // a checkpoint refuses a high s, so each passing says the page made it low.
    const more = await other.run(async (passText) => {
      const live = await import('/live.js');
      const device = await import('/device.js');
      const own = await device.deviceKey();
      const bytes = await live.passBytes(passText);
      const now = Math.floor(Date.now() / 1000);
      const codes = [];
      for (let i = 1; i <= 8; i += 1) codes.push((await live.makeLiveCode(bytes, own.type, (input) => device.sign(own, input), now - i)).text);
      return codes;
    }, secondApi.pass);
    for (const text of more) {
      const seenHere = verdictOf(['verify', text]);
      assert.equal(seenHere.verdict, 'valid', JSON.stringify(seenHere));
    }
    await other.screenshot(join(out, 'citizen-page-p256.png'));
    errors.push(...(await pageErrors(other)).map((error) => `second profile: ${error}`));
  } finally {
    await other.quit();
  }
  timings.second_profile_and_p256_ms = Date.now() - copied;

  // The service worker keeps the page; make sure it controls it.
  await step('the service worker', page.run(() => navigator.serviceWorker.ready.then(() => true)));
  errors.push(...await pageErrors());
  await reload();
  await step('the page under the service worker', page.waitFor(() => navigator.serviceWorker.controller !== null));

  // The server goes away; the page still opens, and the phone still signs
  // live codes that a checkpoint accepts.
  assert.equal(await stopDemo(demo.child), 0, 'the demo stops cleanly on SIGTERM');
  errors.push(...await pageErrors());
  const offline = await reload();
  assert.ok(await darkPixels() > 0.2, 'the QR is drawn offline');
  await page.waitFor(() => /No network/.test(document.querySelector('#status').textContent));
  assert.equal(await page.text('#name'), api.masked_name);
  assert.ok(await page.isVisible('#demo-banner'), 'a demo pass says so, offline too');
  const offlineVerdict = verdictOf(['verify', offline]);
  assert.equal(offlineVerdict.verdict, 'valid', JSON.stringify(offlineVerdict));
  assert.equal(offlineVerdict.holder_bound, true);
  const offlineShot = join(out, 'qr-offline.png');
  await page.elementScreenshot('#qr', offlineShot);
  const offlineScan = verdictOf(['scan', offlineShot]);
  assert.equal(offlineScan.verdict, 'valid', JSON.stringify(offlineScan));
  assert.equal(offlineScan.holder_bound, true);

  // In Chinese, offline. (Back to the top first, as a person sees the
  // page: geckodriver's click on the header scrolled out of view after the
  // QR's element screenshot sometimes lands nowhere.)
  await page.run(() => window.scrollTo(0, 0));
  await page.click('#lang');
  assert.equal(await page.text('#band-word'), '绿码');
  assert.match(await page.text('#code-kind'), /^动态码/);
  assert.match(await page.text('#vaccine'), /^\d 剂/);
  assert.match(await page.text('#test'), /^(阴性|阳性)，\d+ (分钟|小时|天)前$|^通行码上无记录$/);
  assert.equal(await page.attribute('html', 'lang'), 'zh-CN');
  assert.match(await page.text('#status'), /无网络/);
  await page.screenshot(join(ENGINE === 'chromium' ? screenshots : out, 'citizen-page-offline-zh.png'));
  await page.click('#lang');
  errors.push(...await pageErrors());
  assert.deepEqual(errors, [], 'no script errors');
  assert.equal(await page.isVisible('#page-error'), false, 'no "something went wrong" line');
  firstPhoneDone = true;
  timings.test_ms = Date.now() - started;
  console.log(`# ${ENGINE}: ${JSON.stringify(timings)}`);
});

test('another phone takes the pass over: the first one\'s codes are revoked, it says so, and moving back and forth is limited; a fast clock is warned of', { timeout: 180_000 }, async (t) => {
  if (!firstPhoneDone) {
    t.skip('the previous test did not finish: this one goes on from its first phone');
    return;
  }
  // The demo comes back on the same origin (the phone's storage is the
  // origin's), with the same data: the first phone's binding is kept.
  demo = await startDemo(join(work, 'demo'));
  assert.equal(demo.base, base);
  await page.click('#refresh');
  await page.waitFor(() => /^(Checked|Pass updated) at/.test(document.querySelector('#status').textContent), [], { message: 'online again' });
  const firstPhoneCode = await qrText();
  const { t: firstT } = envelopeOf(firstPhoneCode);
  assert.equal(verdictOf(['verify', firstPhoneCode], { now: firstT + 5 }).verdict, 'valid');

  // The same citizen logs in on another phone (a fresh profile): its key
  // replaces the first phone's, whose pass is revoked in the next status list.
  const other = await launch({ profileDir: ENGINE === 'webkit' ? undefined : join(work, `${ENGINE}-third-profile`), width: 360, height: 780, mobile: true });
  try {
    await other.goto(base);
    await other.waitForSelector('#demo-citizens button');
    await other.click('#demo-citizens button');
    const takenOver = await other.waitFor(() => {
      const text = document.querySelector('#qr')?.dataset.text || '';
      return text.startsWith('SP2:') && text;
    }, [], { timeout: 60_000, message: 'the new phone\'s live code' });
    assert.equal(verdictOf(['verify', takenOver]).verdict, 'valid');

    // The first phone learns it at its next check: no code, a note and a button.
    await page.click('#refresh');
    await page.waitFor(() => document.getElementById('code-kind').classList.contains('other'), [], { message: 'the first phone sees its pass moved' });
    assert.equal(await qrText(), '', 'the first phone shows no code');
    assert.match(await page.text('#holder-note'), /^Your pass was moved to another phone/);
    assert.ok(await page.isVisible('#bind-here'));
    assert.equal(await page.isVisible('#qr'), false);
    assert.match(await page.attribute('#band', 'class'), /\belsewhere\b/);
    // Its last code is refused at a checkpoint once it has synced: revoked.
    let revoked;
    for (let i = 0; i < 30; i += 1) {
      verifier('sync', '--from', base);
      revoked = verdictOf(['verify', firstPhoneCode], { now: firstT + 5 });
      if (revoked.code === 'pass_revoked') break;
      await pause(1000);
    }
    assert.equal(revoked.code, 'pass_revoked', JSON.stringify(revoked));
    await page.run(() => window.scrollTo(0, 0));
    await page.screenshot(join(ENGINE === 'chromium' ? screenshots : out, 'citizen-page-moved.png'));

    // The citizen moves it back (a third new phone today) ...
    await page.click('#bind-here');
    const back = await page.waitFor(() => {
      const text = document.querySelector('#qr')?.dataset.text || '';
      return text.startsWith('SP2:') && text;
    }, [], { timeout: 60_000, message: 'the first phone\'s code again' });
    assert.equal(verdictOf(['verify', back]).verdict, 'valid');
    // ... and once more to the other phone: a fourth in 24 hours is refused,
    // and the page says when it can be moved again, in both languages.
    await other.click('#refresh');
    await other.waitFor(() => !document.getElementById('bind-here').hidden, [], { message: 'the other phone offers to move the pass back' });
    await other.click('#bind-here');
    await other.waitFor(() => /too often today/.test(document.getElementById('holder-note').textContent), [], { message: 'the 429 said' });
    assert.match(await other.text('#holder-note'), /moved again in about \d+ h/);
    assert.equal(await other.run(() => document.getElementById('qr').dataset.text), '', 'still no code there');
    await other.click('#lang');
    assert.match(await other.text('#holder-note'), /^今天更换手机次数过多：约 \d+ 小时后可再次更换/);
    assert.deepEqual(await pageErrors(other), [], 'no script errors on the other phone');
  } finally {
    await other.quit();
  }

  // The first phone's clock two minutes fast (Date.now replaced in the
  // page; `window.` because geckodriver runs scripts in a sandbox with
  // builtins of its own): at its next check the page warns, in both
  // languages, and the codes it signs are refused as from a phone ahead.
  await page.run(() => {
    const real = window.Date.now;
    window.Date.now = () => real() + 120_000;
  });
  await page.click('#refresh');
  await page.waitFor(() => !document.getElementById('clock-warning').hidden, [], { message: 'the clock warning' });
  assert.match(await page.text('#clock-warning'), /^This phone's clock is 1(19|20|21) s ahead of the server's/);
  await page.click('#lang');
  assert.match(await page.text('#clock-warning'), /^本机时钟比服务器快 1(19|20|21) 秒/);
  await page.click('#lang');
  let ahead;
  for (let i = 0; i < 30 && !ahead; i += 1) {
    const text = await qrText();
    if (text.startsWith('SP2:') && envelopeOf(text).t > Date.now() / 1000 + 100) ahead = text;
    else await pause(500);
  }
  assert.ok(ahead, 'a code signed on the fast clock');
  assert.equal(verdictOf(['verify', ahead]).code, 'phone_clock_ahead');
  assert.deepEqual(await pageErrors(), [], 'no script errors');
});
