// End to end: the citizen page of the real demo, started with the README's
// run command (`cargo xtask demo`), in Debian's Chromium on a small phone's
// screen. A demo citizen logs in; the QR code is drawn from the pass text; a
// screenshot of it is read back by `sealpass-verifier scan` against the
// lists the demo serves (synced from the demo's root-set file) and decides
// VALID; the web verifier the same command serves at /verify/ syncs and
// decides VALID on the pass text too; the clock ticks; then the server is
// stopped and a reload still shows the last pass. Screenshots go to
// docs/screenshots/citizen-page*.png.
//
//   (cd issuer/web/tests/e2e && npm ci && npm test)
//
// Chromium is /usr/bin/chromium (or $CHROMIUM); without it the test fails.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../../..');
const screenshots = join(repo, 'docs/screenshots');
const out = join(here, 'out');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const targetDir = process.env.CARGO_TARGET_DIR || join(repo, 'target');
const verifierBin = join(targetDir, 'debug/sealpass-verifier');

let work;
let demo;
let base;
let roots;
let context;
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
  assert.ok(existsSync(executablePath), `Chromium is missing at ${executablePath}: run scripts/install-test-deps (Debian package chromium)`);
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
  context = await chromium.launchPersistentContext(join(work, 'chromium-profile'), {
    executablePath,
    headless: true,
    viewport: { width: 360, height: 780 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'en-GB',
    args: [
      '--no-sandbox', '--headless', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // The web verifier at /verify/ asks for a camera: a fake one, allowed.
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    ],
  });
});

after(async () => {
  if (context) await context.close();
  if (demo) await stopDemo(demo.child);
  if (work) rmSync(work, { recursive: true, force: true });
});

/** How many dark pixels the QR canvas holds (0 for a blank one). */
function darkPixels(page) {
  return page.$eval('#qr', (canvas) => {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let dark = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] < 64) dark += 1;
    return dark / (canvas.width * canvas.height);
  });
}

test('log in, the QR appears and verifies, and the pass survives the server going away', async () => {
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  const failures = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('response', (r) => r.status() >= 400 && failures.push(`${r.status()} ${r.url()}`));
  page.on('requestfailed', (r) => failures.push(`${r.failure()?.errorText} ${r.url()}`));
  const step = async (what, promise) => {
    try {
      return await promise;
    } catch (error) {
      writeFileSync(join(out, 'server.log'), serverLog.join('\n'));
      throw new Error(`${what}: ${error.message}\nfailed requests: ${failures.join('; ')}\npage errors: ${errors.join('; ')}\nserver log (all of it in out/server.log):\n${serverLog.slice(-40).join('\n')}`);
    }
  };

  await page.goto(base);
  // Landmarks and live regions for screen readers.
  assert.equal(await page.locator('header, main, footer').count(), 3);
  assert.equal(await page.getAttribute('#status', 'aria-live'), 'polite');
  await step('the demo banner', page.waitForSelector('#demo-banner:not([hidden])'));

  // Log in as the first demo citizen (green).
  const citizen = page.locator('#demo-citizens button').first();
  await citizen.waitFor();
  assert.match(await citizen.textContent(), /Log in as .+ \(GREEN\)/);
  await citizen.click();
  await page.waitForFunction(() => document.querySelector('#qr')?.dataset.text?.startsWith('SP1:'));
  const text = await page.$eval('#qr', (canvas) => canvas.dataset.text);

  // The page shows what the API serves for this login.
  const token = await page.evaluate(() => localStorage.getItem('sealpass.token'));
  const api = await (await fetch(`${base}api/v1/pass`, { headers: { Authorization: `Bearer ${token}` } })).json();
  assert.equal(text, api.pass);
  assert.equal(await page.textContent('#name'), api.masked_name);
  assert.equal(await page.textContent('#id-number'), api.masked_id);
  assert.equal(await page.textContent('#band-word'), 'GREEN');
  assert.match(await page.getAttribute('#band', 'class'), /\bgreen\b/);
  // The vaccination and test lines, as the pass says them.
  const doses = api.vaccination.doses === 1 ? '1 dose' : `${api.vaccination.doses} doses`;
  assert.equal(await page.textContent('#vaccine'),
    api.vaccination.last_dose ? `${doses}, last ${api.vaccination.last_dose}` : doses);
  assert.match(await page.textContent('#test'),
    api.test ? new RegExp(`^${api.test.result === 'negative' ? 'negative' : 'POSITIVE'}, \\d+ (min|h|d) ago$`) : /^none on the pass$/);
  assert.match(await page.getAttribute('#qr', 'aria-label'), /QR code of your GREEN pass/);
  const dark = await darkPixels(page);
  assert.ok(dark > 0.2 && dark < 0.7, `the QR canvas is drawn (${dark} dark)`);

  // The clock moves.
  const t0 = await page.textContent('#clock-time');
  await page.waitForTimeout(1300);
  assert.notEqual(await page.textContent('#clock-time'), t0, 'the clock ticks');

  await page.screenshot({ path: join(screenshots, 'citizen-page.png'), fullPage: true });

  // A checkpoint reads the QR from the screen and decides VALID with the
  // demo's lists, pinned from the demo's root-set file.
  const qrShot = join(out, 'qr.png');
  await page.locator('#qr').screenshot({ path: qrShot });
  verifier('sync', '--from', base, '--roots', roots);
  const verdict = JSON.parse(verifier('--json', 'scan', qrShot).trim().split('\n')[0]);
  assert.equal(verdict.verdict, 'valid', JSON.stringify(verdict));
  assert.equal(verdict.masked_name, api.masked_name);
  assert.equal(verdict.revocation_checked, true);

  // The web verifier the same command serves at /verify/ syncs the demo's
  // lists (pinning its roots.cbor) and decides VALID on the pass text.
  assert.equal(demo.verifierPage, `${base}verify/`, 'the banner says the web verifier is served');
  const checkpoint = await context.newPage();
  checkpoint.on('pageerror', (error) => errors.push(`/verify/: ${error.message}`));
  await checkpoint.goto(demo.verifierPage);
  await step('the web verifier is ready', checkpoint.locator('body[data-ready="true"]').waitFor({ timeout: 60_000 }));
  await checkpoint.locator('summary', { hasText: 'Type or paste a pass' }).click();
  await checkpoint.locator('#pass-text').fill(text);
  await checkpoint.locator('#typed button[type="submit"]').click();
  await step('the web verifier\'s verdict', checkpoint.locator('#verdict:not([hidden])').waitFor({ timeout: 30_000 }));
  const seen = await checkpoint.evaluate(() => globalThis.sealpassLastVerdict);
  assert.equal(seen.code, 'valid', JSON.stringify(seen));
  assert.equal(seen.masked_name, api.masked_name);
  await checkpoint.close();

  // The service worker keeps the page; make sure it controls it.
  await step('the service worker', page.waitForFunction(() => navigator.serviceWorker.ready.then(() => true)));
  await page.reload();
  await step('the page under the service worker', page.waitForFunction(() => navigator.serviceWorker.controller !== null));
  await page.waitForFunction(() => document.querySelector('#qr')?.dataset.text?.startsWith('SP1:'));

  // The server goes away; the page still opens and shows the last pass.
  assert.equal(await stopDemo(demo.child), 0, 'the demo stops cleanly on SIGTERM');
  await page.reload();
  await page.waitForFunction(() => document.querySelector('#qr')?.dataset.text?.startsWith('SP1:'));
  assert.equal(await page.$eval('#qr', (canvas) => canvas.dataset.text), text);
  assert.ok(await darkPixels(page) > 0.2, 'the QR is drawn offline');
  await page.waitForFunction(() => /No network/.test(document.querySelector('#status').textContent));
  assert.equal(await page.textContent('#name'), api.masked_name);
  assert.ok(await page.isVisible('#demo-banner'), 'a demo pass says so, offline too');

  // In Chinese, offline.
  await page.click('#lang');
  assert.equal(await page.textContent('#band-word'), '绿码');
  assert.match(await page.textContent('#vaccine'), /^\d 剂/);
  assert.match(await page.textContent('#test'), /^(阴性|阳性)，\d+ (分钟|小时|天)前$|^通行码上无记录$/);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.match(await page.textContent('#status'), /无网络/);
  await page.screenshot({ path: join(screenshots, 'citizen-page-offline-zh.png'), fullPage: true });
  await page.click('#lang');
  assert.deepEqual(errors, [], 'no script errors');
});
