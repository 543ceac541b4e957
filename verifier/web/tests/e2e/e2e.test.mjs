// End-to-end: the built web verifier (verifier/web/dist, from `cargo xtask web`) in
// Debian's Chromium, with a fake camera filming QR codes of passes signed
// by the test city's issuer key (the e2e_fixtures example). A valid pass
// shows green; an expired, a tampered and a revoked pass show red with the
// right reason; with the server stopped, the page still opens (service
// worker) and still decides. With the status list answering 404, a revoked
// pass is never valid: amber, "could not check revocation", and the phone
// says it is not ready; a status list that runs out before the next sync is
// warned of; markup in a pass is shown as text (security review, issue 15). Screenshots of each verdict go to
// docs/screenshots/, decode times to out/performance.json.
//
//   cargo xtask web && (cd verifier/web/tests/e2e && npm ci && npm test)
//
// Chromium is /usr/bin/chromium (or $CHROMIUM); without it the test fails.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const web = resolve(here, '../..');
const repo = resolve(web, '../..');
const dist = join(web, 'dist');
const screenshots = join(repo, 'docs/screenshots');
const out = join(here, 'out');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.webmanifest': 'application/manifest+json',
  '.cbor': 'application/cbor',
};

let fixtures;
let server;
let origin;
let profileDir;
const requests = [];

/**
 * Serve dist/ and the lists, on loopback only, as a plain static server
 * does; paths matching `notFound` answer 404 whatever is on disk.
 */
function serve(roots, { notFound } = {}) {
  return new Promise((resolvePromise) => {
    const http = createServer((request, response) => {
      const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname));
      requests.push(path);
      const relative = path === '/' ? 'index.html' : path.slice(1);
      const file = roots
        .map((base) => join(base, relative))
        .find((f) => roots.some((base) => f.startsWith(base + '/')) && existsSync(f) && statSync(f).isFile());
      if (!file || notFound?.test(path)) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, {
        'content-type': TYPES[extname(file)] || 'application/octet-stream',
        'cache-control': 'no-cache',
      });
      response.end(readFileSync(file));
    });
    http.listen(0, '127.0.0.1', () => resolvePromise(http));
  });
}

before(async () => {
  assert.ok(existsSync(executablePath), `Chromium is missing at ${executablePath}: run scripts/install-test-deps (Debian package chromium)`);
  assert.ok(existsSync(join(dist, 'pkg/sealpass_web_bg.wasm')), `no build in ${dist}: run cargo xtask web first`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  mkdirSync(screenshots, { recursive: true });
  fixtures = join(out, 'fixtures');
  // Passes and lists for a city at the real time: Chromium's clock is the system's.
  const now = Math.floor(Date.now() / 1000);
  execFileSync('cargo', ['run', '--locked', '--quiet', '-p', 'sealpass-web', '--example', 'e2e_fixtures', '--', fixtures, String(now)], {
    cwd: repo,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  server = await serve([dist, join(fixtures, 'site-lists')]);
  origin = `http://127.0.0.1:${server.address().port}/`;
  profileDir = mkdtempSync(join(tmpdir(), 'sealpass-chromium-'));
});

after(() => {
  if (server) server.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

/** Chromium with this phone's profile (kept between launches) filming `camera`. */
async function phone(camera, profile = profileDir) {
  return chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 412, height: 860 },
    locale: 'en-GB',
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-video-capture=${join(fixtures, 'camera', camera)}`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** Open the page and wait for the verdict the camera's pass gets. */
async function verdictOf(context, name, at = origin) {
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(at);
  await page.locator('body[data-ready="true"]').waitFor({ timeout: 30_000 });
  const screen = page.locator('#verdict:not([hidden])');
  await screen.waitFor({ timeout: 30_000 });
  const verdict = await page.evaluate(() => globalThis.sealpassLastVerdict);
  const shown = {
    className: await screen.getAttribute('class'),
    word: await page.locator('#verdict-word').textContent(),
    reason: await page.locator('#verdict-reason').textContent(),
    name: await page.locator('#verdict-name').textContent(),
    announced: await page.locator('#announce').textContent(),
    background: await screen.evaluate((el) => getComputedStyle(el).backgroundColor),
  };
  await page.screenshot({ path: join(screenshots, `web-verifier-${name}.png`) });
  assert.deepEqual(errors, [], `errors on the page: ${errors}`);
  return { page, verdict, shown };
}

test('a valid pass shows the green verdict, with the name, id and time left', async () => {
  const context = await phone('valid.y4m');
  try {
    const { page, verdict, shown } = await verdictOf(context, 'valid');
    assert.equal(verdict.verdict, 'valid');
    assert.equal(verdict.code, 'valid');
    assert.equal(verdict.colour, 'green');
    assert.equal(verdict.policy, 'subway');
    assert.equal(verdict.revocation_checked, true);
    assert.match(shown.className, /\bvalid\b/);
    assert.equal(shown.background, 'rgb(10, 125, 50)');
    assert.equal(shown.word, 'VALID');
    assert.equal(shown.name, '张*明');
    assert.equal(await page.locator('#verdict-id').textContent(), '6101**********1234');
    assert.match(await page.locator('#verdict-time').textContent(), /^valid for 2[23] h/);
    // What the seeds' codes showed, from the pass itself.
    assert.equal(await page.locator('#verdict-vaccine').textContent(), 'Vaccine: 3 doses, last 2022-01-15');
    assert.match(await page.locator('#verdict-test').textContent(), /^Test: negative, 2[01] h( \d+ min)? ago$/);
    assert.equal(await page.locator('#verdict-checked').textContent(), 'Checked: green');
    assert.deepEqual(verdict.vaccination, { doses: 3, last_dose: '2022-01-15' });
    assert.match(shown.announced, /^Valid, green\. 张\*明/);
    // Back to scanning by a tap; the list status shows how old the lists are.
    await page.locator('#next').click();
    await page.locator('#verdict[hidden]').waitFor({ state: 'attached' });
    assert.match(await page.locator('#freshness').textContent(), /^Trust list OK: issued 1 d ago, expires in (29|30) d/);
    // The app must be ready to work offline before the server goes away.
    await page.evaluate(() => navigator.serviceWorker.ready);
    // Decoding while the pass stays in front of the camera.
    await page.waitForTimeout(3000);
    const stats = await page.evaluate(() => ({ ...globalThis.sealpassScanStats, recent: undefined }));
    assert.ok(stats.samples >= 10, `only ${stats.samples} frames decoded`);
    writeFileSync(join(out, 'decode-with-pass.json'), JSON.stringify(stats));
  } finally {
    await context.close();
  }
});

for (const [article, name, code, reason] of [
  ['an', 'expired', 'expired', /^expired 3 h 1\d min ago$/],
  ['a', 'tampered', 'bad_signature', /^signature does not verify$/],
]) {
  test(`${article} ${name} pass shows red with the reason "${code}"`, async () => {
    const context = await phone(`${name}.y4m`);
    try {
      const { verdict, shown } = await verdictOf(context, name);
      assert.equal(verdict.verdict, 'not_valid');
      assert.equal(verdict.code, code);
      assert.match(shown.className, /\bnot_valid\b/);
      assert.equal(shown.background, 'rgb(200, 16, 46)');
      assert.equal(shown.word, 'NOT VALID');
      assert.match(shown.reason, reason);
      assert.equal(shown.name, '');
    } finally {
      await context.close();
    }
  });
}

/** A new phone (its own profile) against its own server, closed after `work`. */
async function otherPhone(lists, options, camera, work) {
  const http = await serve([dist, lists], options);
  const at = `http://127.0.0.1:${http.address().port}/`;
  const profile = mkdtempSync(join(tmpdir(), 'sealpass-chromium-'));
  const context = await phone(camera, profile);
  try {
    await work(context, at);
  } finally {
    await context.close();
    await new Promise((resolvePromise) => http.close(resolvePromise));
    rmSync(profile, { recursive: true, force: true });
  }
}

// Finding 1: revocation fails closed. The server has the status list but
// answers 404 for it; the camera films the revoked pass.
test('with the status list answering 404, a revoked pass is never valid: amber "could not check revocation", and not ready', async () => {
  await otherPhone(join(fixtures, 'site-lists'), { notFound: /^\/status\// }, 'revoked.y4m', async (context, at) => {
    const { page, verdict, shown } = await verdictOf(context, 'revocation-not-checked', at);
    assert.equal(verdict.verdict, 'undecided');
    assert.equal(verdict.valid, false);
    assert.equal(verdict.code, 'revocation_not_checked');
    assert.equal(verdict.phase, 'revocation');
    assert.match(shown.className, /\bundecided\b/);
    assert.match(shown.className, /\bunchecked\b/);
    assert.equal(shown.background, 'rgb(168, 67, 0)');
    assert.equal(shown.word, 'CANNOT DECIDE');
    assert.equal(shown.reason, 'Could not check revocation');
    assert.equal(await page.locator('#verdict-action').textContent(), 'Sync the lists now. Do not admit on this pass until then.');
    assert.match(await page.locator('#verdict-detail').textContent(), /^could not check revocation: no status list of issuer CN-610100 is held/);
    assert.equal(await page.locator('#verdict-sync').isVisible(), true);
    assert.equal(shown.name, '');
    assert.match(shown.announced, /^CANNOT DECIDE\. Could not check revocation\. Sync the lists now/);
    // The lists say why the phone is not ready.
    await page.locator('#next').click();
    await page.locator('#verdict[hidden]').waitFor({ state: 'attached' });
    const status = await page.evaluate(() => globalThis.sealpassStatus);
    assert.equal(status.ready, false);
    assert.equal(status.code, 'revocation_not_checked');
    assert.equal(status.status_lists[0].state, 'missing');
    assert.match(await page.locator('#readiness').textContent(), /^NOT READY: revocation cannot be checked for CN-610100/);
    assert.equal(await page.locator('#readiness').isVisible(), true);
    assert.match(await page.locator('#sync-result').textContent(), /status list of CN-610100: not reachable \(.*HTTP 404\)/);
    assert.match(await page.locator('#list-details').textContent(), /Status list of CN-610100: NONE/);
    // The same pass in Chinese.
    await page.locator('#lang').click();
    await page.waitForTimeout(2600);
    await page.locator('#verdict:not([hidden])').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('#verdict-word').textContent(), '无法判断');
    assert.equal(await page.locator('#verdict-reason').textContent(), '无法核验撤销状态');
    assert.equal(await page.locator('#verdict-action').textContent(), '请立即同步吊销列表。同步前请勿凭此码放行。');
    await page.screenshot({ path: join(screenshots, 'web-verifier-revocation-not-checked-zh.png') });
    await page.locator('#next').click();
    assert.match(await page.locator('#readiness').textContent(), /^未就绪：无法核验 CN-610100 的撤销状态/);
  });
});

test('a status list that runs out before the next planned sync is warned of; resetting trust pins the roots again', async () => {
  await otherPhone(join(fixtures, 'site-lists-short'), {}, 'blank.y4m', async (context, at) => {
    const page = context.pages()[0] || await context.newPage();
    await page.goto(at);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 30_000 });
    const status = await page.evaluate(() => globalThis.sealpassStatus);
    assert.equal(status.ready, true, JSON.stringify(status));
    assert.equal(status.status_lists[0].state, 'current');
    assert.equal(status.status_lists[0].expires_before_next_sync, true);
    assert.equal(status.warnings.length, 1);
    const warning = await page.locator('#warnings li').textContent();
    assert.equal(warning, `T${status.warnings[0].slice(1)}`);
    assert.match(warning, /^The status list of CN-610100 expires in (1 h 5\d min|2 h), before the next planned sync \(in (5 h 5\d min|6 h)\)/);
    assert.equal(await page.locator('#warnings').evaluate((el) => getComputedStyle(el).color), 'rgb(255, 213, 74)');
    await page.screenshot({ path: join(screenshots, 'web-verifier-sync-warning.png') });
    await page.locator('#lang').click();
    // The page re-renders the panel after the switch: wait for it.
    await page.waitForFunction(() => !document.querySelector('#warnings li')?.textContent.startsWith('The '));
    assert.match(await page.locator('#warnings li').textContent(), /^CN-610100 的吊销列表将在 (1 小时 5\d 分钟|2 小时)后过期，早于下次计划同步/);
    await page.locator('#lang').click();
    // The explicit re-pin: behind a confirmation, then the page pins
    // roots.cbor again (fetched only when no roots are held).
    const rootsFetched = () => requests.filter((path) => path === '/roots.cbor').length;
    const before = rootsFetched();
    await page.locator('summary', { hasText: 'Settings and details' }).click();
    page.once('dialog', (dialog) => dialog.dismiss());
    await page.locator('#reset-trust').click();
    await page.waitForTimeout(500);
    assert.equal(rootsFetched(), before, 'a dismissed confirmation changes nothing');
    page.once('dialog', (dialog) => dialog.accept());
    await Promise.all([page.waitForEvent('load'), page.locator('#reset-trust').click()]);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 30_000 });
    assert.equal(rootsFetched(), before + 1);
    assert.equal((await page.evaluate(() => globalThis.sealpassStatus)).trust_list.sequence, 1);
  });
});

// Finding 7: text from a pass is put into the page as text, never parsed.
test('markup in a pass is shown as text, never run', async () => {
  const passes = JSON.parse(readFileSync(join(fixtures, 'passes.json'), 'utf8'));
  const context = await phone('blank.y4m');
  try {
    const page = context.pages()[0] || await context.newPage();
    await page.goto(origin);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 30_000 });
    await page.locator('summary', { hasText: 'Type or paste a pass' }).click();
    const typed = async (text) => {
      await page.locator('#pass-text').fill(text);
      await page.locator('#typed button[type="submit"]').click();
      await page.locator('#verdict:not([hidden])').waitFor();
      return page.evaluate(() => globalThis.sealpassLastVerdict);
    };
    const markup = '<img src=x onerror=globalThis.sealpassXss=1>';
    const named = await typed(passes.hostile_name);
    assert.equal(named.code, 'valid');
    assert.equal(named.masked_name, `${markup}张*明`);
    assert.equal(await page.locator('#verdict-name').textContent(), `${markup}张*明`);
    assert.match(await page.locator('#announce').textContent(), /<img src=x onerror=/);
    await page.locator('#next').click();
    const issuer = await typed(passes.hostile_issuer);
    assert.equal(issuer.code, 'issuer_mismatch');
    assert.match(await page.locator('#verdict-reason').textContent(), /names issuer <img src=x onerror=/);
    await page.waitForTimeout(300);
    assert.equal(await page.locator('img').count(), 0, 'no element was made from the pass');
    assert.equal(await page.evaluate(() => globalThis.sealpassXss), undefined);
    await page.locator('#next').click();
  } finally {
    await context.close();
  }
});

test('with the server stopped, the page opens from the service worker and still refuses a revoked pass', async () => {
  await new Promise((resolvePromise) => server.close(resolvePromise));
  server = null;
  const before = requests.length;
  const context = await phone('revoked.y4m');
  try {
    const { page, verdict, shown } = await verdictOf(context, 'revoked');
    assert.equal(verdict.code, 'pass_revoked');
    assert.equal(verdict.phase, 'revocation');
    assert.match(shown.className, /\bnot_valid\b/);
    assert.equal(shown.reason, 'pass revoked');
    assert.match(await page.locator('#sync-result').textContent(), /trust list: not reachable/);
    // A reload still works, and still decides.
    await page.reload();
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 30_000 });
    await page.locator('#verdict:not([hidden])').waitFor({ timeout: 30_000 });
    assert.equal(await page.evaluate(() => globalThis.sealpassLastVerdict.code), 'pass_revoked');
    // The same pass in Chinese.
    await page.locator('#next').click();
    await page.locator('#lang').click();
    await page.waitForTimeout(2600);
    await page.locator('#verdict:not([hidden])').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('#verdict-word').textContent(), '无效');
    assert.equal(await page.locator('#verdict-reason').textContent(), '通行码已被吊销');
    await page.screenshot({ path: join(screenshots, 'web-verifier-revoked-zh.png') });
    await page.locator('#next').click();
    await page.locator('#lang').click();
  } finally {
    await context.close();
  }
  assert.equal(requests.length, before, 'nothing reached the stopped server');
});

test('frames without a code: decode time per frame', async () => {
  const context = await phone('blank.y4m');
  try {
    const page = context.pages()[0] || await context.newPage();
    await page.goto(origin);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 30_000 });
    await page.waitForTimeout(4000);
    const stats = await page.evaluate(() => ({ ...globalThis.sealpassScanStats, recent: undefined }));
    assert.ok(stats.samples >= 10, `only ${stats.samples} frames decoded`);
    assert.equal(await page.locator('#verdict').isHidden(), true);
    assert.match(await page.locator('#freshness').textContent(), /^Trust list OK/);
    await page.screenshot({ path: join(screenshots, 'web-verifier-scanner.png') });
    writeFileSync(join(out, 'decode-without-pass.json'), JSON.stringify(stats));
    // A text that is no pass, typed: grey, "cannot decide".
    await page.locator('summary', { hasText: 'Type or paste a pass' }).click();
    await page.locator('#pass-text').fill('SP1:hello');
    await page.locator('#typed button[type="submit"]').click();
    await page.locator('#verdict:not([hidden])').waitFor();
    const verdict = await page.evaluate(() => globalThis.sealpassLastVerdict);
    assert.equal(verdict.verdict, 'undecided');
    assert.equal(verdict.source, 'typed');
    assert.equal(await page.locator('#verdict-word').textContent(), 'CANNOT DECIDE');
    assert.equal(await page.locator('#verdict').evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(74, 79, 87)');
    await page.screenshot({ path: join(screenshots, 'web-verifier-undecided.png') });
    const wasm = readFileSync(join(dist, 'pkg/sealpass_web_bg.wasm')).length;
    console.log(`wasm ${wasm} bytes; decode per frame: ${readFileSync(join(out, 'decode-with-pass.json'))} with a pass, ${JSON.stringify(stats)} without`);
  } finally {
    await context.close();
  }
});
