// End to end: the citizen page of the real demo, started with the README's
// run command (`cargo xtask demo`), on a small phone's screen, in one of
// three engines through WebDriver (ENGINE=chromium, firefox or webkit: the
// client is verifier/web/tests/e2e/webdriver.mjs). A demo citizen logs in; the QR code is drawn from the pass text; a
// screenshot of it is read back by `sealpass-verifier scan` against the
// lists the demo serves (synced from the demo's root-set file) and decides
// VALID; the web verifier the same command serves at /verify/ syncs and
// decides VALID on the pass text too; the clock ticks; then the server is
// stopped and a reload still shows the last pass. Screenshots go to
// docs/screenshots/citizen-page*.png (citizen-page-ENGINE.png for Firefox
// and WebKitGTK). The page's uncaught errors are kept by the page's first
// script, errors.js, and read here (WebDriver has no page-error event).
//
//   (cd issuer/web/tests/e2e && npm ci && ENGINE=chromium npm test)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ENGINE, launch, missing, pause } from '../../../../verifier/web/tests/e2e/webdriver.mjs';

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
const serverLog = [];

/**
 * Start the demo with the README's run command on free ports; resolve once
 * its banner is printed. `cargo xtask demo` becomes the demo's own process
 * (exec), so the child's SIGTERM reaches it.
 */
function startDemo(dataDir) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('cargo', [
      'xtask', 'demo', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--citizens', '300',
    ], { cwd: repo, env: { ...process.env, SEALPASS_LOG: process.env.E2E_SERVER_LOG || 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = [];
    // The server's log, shown if the test fails.
    createInterface({ input: child.stderr }).on('line', (line) => serverLog.push(line));
    // Bounded, and long enough to build the web verifier if it is not built yet.
    const timeout = setTimeout(() => reject(new Error(`the demo did not start: ${lines.join('\n')}\n${serverLog.slice(-20).join('\n')}`)), 600_000);
    child.on('exit', (code) => reject(new Error(`the demo exited with ${code}: ${lines.join('\n')}`)));
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
function darkPixels() {
  return page.run(() => {
    const canvas = document.getElementById('qr');
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let dark = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] < 64) dark += 1;
    return dark / (canvas.width * canvas.height);
  });
}

/** The page's uncaught errors since it loaded, which its first script (errors.js) keeps. */
async function pageErrors() {
  return page.run(() => globalThis.sealpassPageErrors || ['errors.js did not run']);
}

const qrText = () => page.waitFor(() => document.querySelector('#qr')?.dataset.text?.startsWith('SP1:'), [], { message: 'the QR code' });

/** Reload as a person does, and wait for the new page's QR. */
async function reload() {
  await page.run(() => { document.documentElement.dataset.e2eOld = 'true'; });
  await page.reload();
  await page.waitFor(() => !document.documentElement.dataset.e2eOld && document.querySelector('#qr')?.dataset.text?.startsWith('SP1:'), [], { message: 'the reloaded QR code' });
}

test('log in, the QR appears and verifies, and the pass survives the server going away', async () => {
  const errors = [];
  const step = async (what, promise) => {
    try {
      return await promise;
    } catch (error) {
      writeFileSync(join(out, 'server.log'), serverLog.join('\n'));
      throw new Error(`${what}: ${error.message}\npage errors: ${[...errors, ...await pageErrors().catch(() => [])].join('; ')}\nserver log (all of it in out/server.log):\n${serverLog.slice(-40).join('\n')}`);
    }
  };

  await page.goto(base);
  // Landmarks and live regions for screen readers.
  assert.equal(await page.count('header, main, footer'), 3);
  assert.equal(await page.attribute('#status', 'aria-live'), 'polite');
  await step('the demo banner', page.waitForSelector('#demo-banner:not([hidden])'));

  // Log in as the first demo citizen (green).
  await page.waitForSelector('#demo-citizens button');
  assert.match(await page.text('#demo-citizens button'), /Log in as .+ \(GREEN\)/);
  await page.click('#demo-citizens button');
  await qrText();
  const text = await page.run(() => document.getElementById('qr').dataset.text);

  // The page shows what the API serves for this login.
  const token = await page.run(() => localStorage.getItem('sealpass.token'));
  const api = await (await fetch(`${base}api/v1/pass`, { headers: { Authorization: `Bearer ${token}` } })).json();
  assert.equal(text, api.pass);
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
  assert.match(await page.attribute('#qr', 'aria-label'), /QR code of your GREEN pass/);
  const dark = await darkPixels();
  assert.ok(dark > 0.2 && dark < 0.7, `the QR canvas is drawn (${dark} dark)`);

  // The clock moves.
  const t0 = await page.text('#clock-time');
  await pause(1300);
  assert.notEqual(await page.text('#clock-time'), t0, 'the clock ticks');

  // The viewport (WebDriver has no full-page screenshot in every engine).
  await page.screenshot(join(screenshots, ENGINE === 'chromium' ? 'citizen-page.png' : `citizen-page-${ENGINE}.png`));

  // A checkpoint reads the QR from the screen and decides VALID with the
  // demo's lists, pinned from the demo's root-set file.
  const qrShot = join(out, 'qr.png');
  await page.elementScreenshot('#qr', qrShot);
  verifier('sync', '--from', base, '--roots', roots);
  const verdict = JSON.parse(verifier('--json', 'scan', qrShot).trim().split('\n')[0]);
  assert.equal(verdict.verdict, 'valid', JSON.stringify(verdict));
  assert.equal(verdict.masked_name, api.masked_name);
  assert.equal(verdict.revocation_checked, true);

  // The web verifier the same command serves at /verify/ syncs the demo's
  // lists (pinning its roots.cbor) and decides VALID on the pass text.
  assert.equal(demo.verifierPage, `${base}verify/`, 'the banner says the web verifier is served');
  const citizenTab = await page.window();
  await page.switchTo(await page.newTab());
  await page.goto(demo.verifierPage);
  await step('the web verifier is ready', page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 }));
  await page.click('summary', { text: 'Type or paste a pass' });
  await page.fill('#pass-text', text);
  await page.click('#typed button[type="submit"]');
  await step('the web verifier\'s verdict', page.waitForSelector('#verdict:not([hidden])', { timeout: 30_000 }));
  const seen = await page.run(() => globalThis.sealpassLastVerdict);
  assert.equal(seen.code, 'valid', JSON.stringify(seen));
  assert.equal(seen.masked_name, api.masked_name);
  // The web verifier's own page errors are its suite's (verifier/web/tests/e2e).
  await page.closeTab();
  await page.switchTo(citizenTab);

  // The service worker keeps the page; make sure it controls it.
  await step('the service worker', page.run(() => navigator.serviceWorker.ready.then(() => true)));
  errors.push(...await pageErrors());
  await reload();
  await step('the page under the service worker', page.waitFor(() => navigator.serviceWorker.controller !== null));

  // The server goes away; the page still opens and shows the last pass.
  assert.equal(await stopDemo(demo.child), 0, 'the demo stops cleanly on SIGTERM');
  errors.push(...await pageErrors());
  await reload();
  assert.equal(await page.run(() => document.getElementById('qr').dataset.text), text);
  assert.ok(await darkPixels() > 0.2, 'the QR is drawn offline');
  await page.waitFor(() => /No network/.test(document.querySelector('#status').textContent));
  assert.equal(await page.text('#name'), api.masked_name);
  assert.ok(await page.isVisible('#demo-banner'), 'a demo pass says so, offline too');

  // In Chinese, offline.
  await page.click('#lang');
  assert.equal(await page.text('#band-word'), '绿码');
  assert.match(await page.text('#vaccine'), /^\d 剂/);
  assert.match(await page.text('#test'), /^(阴性|阳性)，\d+ (分钟|小时|天)前$|^通行码上无记录$/);
  assert.equal(await page.attribute('html', 'lang'), 'zh-CN');
  assert.match(await page.text('#status'), /无网络/);
  await page.screenshot(join(ENGINE === 'chromium' ? screenshots : out, 'citizen-page-offline-zh.png'));
  await page.click('#lang');
  errors.push(...await pageErrors());
  assert.deepEqual(errors, [], 'no script errors');
  assert.equal(await page.isVisible('#page-error'), false, 'no "something went wrong" line');
});
