// End-to-end: the built web verifier (verifier/web/dist, from `cargo xtask web`) in
// three browser engines through WebDriver (webdriver.mjs; ENGINE=chromium,
// firefox or webkit), with a camera filming QR codes of passes signed
// by the test city's issuer key (the e2e_fixtures example). A valid pass
// shows green; an expired, a tampered and a revoked pass show red with the
// right reason; with the server stopped, the page still opens (service
// worker) and still decides. With the status list answering 404, a revoked
// pass is never valid: amber, "could not check revocation", and the phone
// says it is not ready; a status list that runs out before the next sync is
// warned of; markup in a pass is shown as text (security review, issue 15);
// a new build's service worker deletes only the verifier's own older caches.
// Screenshots of each verdict go to docs/screenshots/, decode times to
// out/performance.json.
//
//   cargo xtask web && (cd verifier/web/tests/e2e && npm ci && ENGINE=chromium npm test)
//
// The camera (docs/web-verifier.md, "Tests"): Chromium plays the .y4m files
// with its own fake camera. Firefox's and WebKitGTK's fake cameras show a
// test pattern, so there the test's server adds a script to index.html, run
// before the app, that makes getUserMedia return a canvas's captureStream()
// drawing the current .y4m's picture, fetched from a "camera" server of the
// test's own that outlives the app's server; the app's own video -> bitmap
// -> worker path runs unchanged. The same script, in every engine, keeps the
// page's uncaught errors for the test (WebDriver has no page-error event).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINE, launch, missing, pause } from './webdriver.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const web = resolve(here, '../..');
const repo = resolve(web, '../..');
const dist = join(web, 'dist');
const screenshots = join(repo, 'docs/screenshots');
const out = join(here, 'out', ENGINE);
// Chromium's own fake camera plays the .y4m; the others get the canvas camera.
const canvasCamera = ENGINE !== 'chromium';

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
let camera;
let keptPhone;
const requests = [];

/**
 * Where a screenshot goes: Chromium's all to docs/screenshots/ under the
 * names the docs always used; of the other engines the valid verdict goes
 * there as `web-verifier-valid-ENGINE.png`, the rest to out/ENGINE/.
 */
function shot(name) {
  if (ENGINE === 'chromium') return join(screenshots, `${name}.png`);
  if (name === 'web-verifier-valid') return join(screenshots, `${name}-${ENGINE}.png`);
  return join(out, `${name}.png`);
}

/**
 * Run in the page before the app (added to index.html by `serve`): keeps
 * uncaught errors in `sealpassE2eErrors` and, with `fake`, answers
 * getUserMedia with a canvas's stream drawing the camera server's picture.
 */
function e2eHooks(cameraUrl, fake) {
  const errors = [];
  globalThis.sealpassE2eErrors = errors;
  addEventListener('error', (event) => errors.push(String(event.message)));
  addEventListener('unhandledrejection', (event) => errors.push(String(event.reason)));
  if (!fake) return;
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d');
  let frame;
  async function load() {
    try {
      const response = await fetch(cameraUrl, { cache: 'no-store' });
      const width = Number(response.headers.get('x-width'));
      const height = Number(response.headers.get('x-height'));
      const luma = new Uint8Array(await response.arrayBuffer());
      const image = new ImageData(width, height);
      for (let i = 0; i < width * height; i += 1) {
        image.data[4 * i] = luma[i];
        image.data[4 * i + 1] = luma[i];
        image.data[4 * i + 2] = luma[i];
        image.data[4 * i + 3] = 255;
      }
      frame = image;
    } catch {
      // The camera server lives as long as the suite; try again.
    }
  }
  function draw() {
    if (!frame) return;
    if (canvas.width !== frame.width) canvas.width = frame.width;
    if (canvas.height !== frame.height) canvas.height = frame.height;
    context.putImageData(frame, 0, 0);
  }
  async function getUserMedia() {
    await load();
    draw();
    setInterval(load, 500);
    setInterval(draw, 66);
    return canvas.captureStream(15);
  }
  // On the prototype as well as the object: WebKitGTK now and then answers
  // with its own mock camera (a test pattern) when only the object's
  // property is replaced.
  if (globalThis.MediaDevices) MediaDevices.prototype.getUserMedia = getUserMedia;
  if (!navigator.mediaDevices) Object.defineProperty(navigator, 'mediaDevices', { value: {} });
  Object.defineProperty(navigator.mediaDevices, 'getUserMedia', { value: getUserMedia, configurable: true, writable: true });
}

/** The camera: serves the first picture (its luma) of the .y4m it plays. */
function cameraServer() {
  let playing;
  const http = createServer((request, response) => {
    const file = readFileSync(join(fixtures, 'camera', playing));
    const headerEnd = file.indexOf(10);
    const [, width, height] = /W(\d+) H(\d+)/.exec(file.subarray(0, headerEnd).toString());
    const frameStart = file.indexOf(10, headerEnd + 1) + 1; // after "FRAME\n"
    response.writeHead(200, {
      'content-type': 'application/octet-stream',
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'x-width, x-height',
      'cache-control': 'no-store',
      'x-width': width,
      'x-height': height,
    });
    response.end(file.subarray(frameStart, frameStart + width * height));
  });
  return new Promise((resolvePromise) => {
    http.listen(0, '127.0.0.1', () => resolvePromise({
      http,
      url: `http://127.0.0.1:${http.address().port}/frame`,
      play: (name) => { playing = name; },
    }));
  });
}

/**
 * Serve dist/ and the lists, on loopback only, as a plain static server
 * does, with the test's hooks added to index.html; paths matching
 * `notFound` answer 404 whatever is on disk; `clockOffset` (seconds) puts
 * the server's `Date` off the real time; `sw.suffix` is appended to the
 * service worker's cache version (a new build, for the cache test).
 */
function serve(roots, { notFound, sw, clockOffset } = {}) {
  return new Promise((resolvePromise) => {
    const http = createServer((request, response) => {
      if (clockOffset) response.setHeader('date', new Date(Date.now() + clockOffset * 1000).toUTCString());
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
      let body = readFileSync(file);
      if (relative === 'index.html') {
        const hooks = `<script>(${e2eHooks})(${JSON.stringify(camera.url)}, ${canvasCamera});</script>\n`;
        body = body.toString().replace('<script type="module"', `${hooks}<script type="module"`);
      }
      if (relative === 'sw.js' && sw?.suffix) {
        body = body.toString().replace(/(const VERSION = 'sealpass-checkpoint-[^']*)'/, `$1${sw.suffix}'`);
      }
      response.writeHead(200, {
        'content-type': TYPES[extname(file)] || 'application/octet-stream',
        'cache-control': 'no-cache',
      });
      response.end(body);
    });
    http.listen(0, '127.0.0.1', () => resolvePromise(http));
  });
}

before(async () => {
  assert.deepEqual(missing(), [], `${ENGINE} is not installed: run scripts/install-test-deps (and scripts/test installs geckodriver)`);
  assert.ok(existsSync(join(dist, 'pkg/sealpass_web_bg.wasm')), `no build in ${dist}: run cargo xtask web first`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  mkdirSync(screenshots, { recursive: true });
  fixtures = join(out, 'fixtures');
  // Passes and lists for a city at the real time: the browser's clock is the system's.
  const now = Math.floor(Date.now() / 1000);
  execFileSync('cargo', ['run', '--locked', '--quiet', '-p', 'sealpass-web', '--example', 'e2e_fixtures', '--', fixtures, String(now)], {
    cwd: repo,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  camera = await cameraServer();
  server = await serve([dist, join(fixtures, 'site-lists')]);
  origin = `http://127.0.0.1:${server.address().port}/`;
  profileDir = mkdtempSync(join(tmpdir(), `sealpass-${ENGINE}-`));
});

after(async () => {
  if (keptPhone) await keptPhone.quit();
  if (server) server.close();
  if (camera) camera.http.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

/**
 * The browser with this phone's profile (kept between launches) filming
 * `film`. WebKitGTK's MiniBrowser keeps no storage between automation
 * sessions, so there this phone is one session, kept for the whole suite.
 */
async function phone(film, profile = profileDir) {
  camera.play(film);
  const cameraFile = ENGINE === 'chromium' ? join(fixtures, 'camera', film) : undefined;
  if (ENGINE === 'webkit' && profile === profileDir) {
    keptPhone ||= await launch({ camera: cameraFile });
    return keptPhone;
  }
  return launch({ profileDir: profile, camera: cameraFile });
}

async function hangUp(browser) {
  if (browser !== keptPhone) await browser.quit();
}

/**
 * Navigate (or reload) and wait until the new page says it is ready. The
 * old page is marked in its DOM (a script's globals are not the page's in
 * Firefox's WebDriver), so its "ready" is never taken for the new one's.
 */
async function open(browser, at) {
  await browser.run(() => { document.documentElement.dataset.e2eOld = 'true'; }).catch(() => {});
  if (at) await browser.goto(at);
  else await browser.reload();
  await ready(browser);
}

function ready(browser) {
  return browser.waitFor(() => !document.documentElement.dataset.e2eOld && document.body?.dataset.ready === 'true', [], {
    timeout: 30_000, message: 'the page to be ready',
  });
}

async function verdictShown(browser) {
  try {
    await browser.waitForSelector('#verdict:not([hidden])', { timeout: 30_000 });
  } catch (error) {
    // What the scanner was doing, for a failure that only one engine shows.
    const state = await browser.run(() => {
      const video = document.getElementById('video');
      const { frames, samples, width, height } = globalThis.sealpassScanStats || {};
      return JSON.stringify({
        frames, samples, width, height,
        video: { readyState: video.readyState, width: video.videoWidth, time: video.currentTime, paused: video.paused },
        hint: document.getElementById('hint')?.textContent,
        track: video.srcObject?.getVideoTracks?.()[0]?.label,
        faked: String(navigator.mediaDevices?.getUserMedia).includes('captureStream'),
        hooks: !!document.querySelector('script:not([type])'),
        visible: document.visibilityState,
        errors: globalThis.sealpassE2eErrors,
      });
    }).catch((stateError) => `unknown (${stateError.message})`);
    error.message += `; the scanner: ${state}; the driver's last words: ${browser.log.join('').slice(-800)}`;
    throw error;
  }
}
const verdictHidden = (browser) => browser.waitForSelector('#verdict[hidden]');
const errorsOn = (browser) => browser.run(() => globalThis.sealpassE2eErrors);

/** Open the page and wait for the verdict the camera's pass gets. */
async function verdictOf(browser, name, at = origin) {
  await open(browser, at);
  await verdictShown(browser);
  const verdict = await browser.run(() => globalThis.sealpassLastVerdict);
  const shown = await browser.run(() => {
    const text = (id) => document.getElementById(id).textContent;
    return {
      className: document.getElementById('verdict').getAttribute('class'),
      word: text('verdict-word'),
      reason: text('verdict-reason'),
      name: text('verdict-name'),
      announced: text('announce'),
      background: getComputedStyle(document.getElementById('verdict')).backgroundColor,
    };
  });
  await browser.screenshot(shot(`web-verifier-${name}`));
  const errors = await errorsOn(browser);
  assert.deepEqual(errors, [], `errors on the page: ${errors}`);
  return { verdict, shown };
}

test('a valid pass shows the green verdict, with the name, id and time left', async () => {
  const page = await phone('valid.y4m');
  try {
    const { verdict, shown } = await verdictOf(page, 'valid');
    assert.equal(verdict.verdict, 'valid');
    assert.equal(verdict.code, 'valid');
    assert.equal(verdict.colour, 'green');
    assert.equal(verdict.policy, 'subway');
    assert.equal(verdict.revocation_checked, true);
    assert.match(shown.className, /\bvalid\b/);
    assert.equal(shown.background, 'rgb(10, 125, 50)');
    assert.equal(shown.word, 'VALID');
    assert.equal(shown.name, '张*明');
    assert.equal(await page.text('#verdict-id'), '6101**********1234');
    assert.match(await page.text('#verdict-time'), /^valid for 2[23] h/);
    // What the seeds' codes showed, from the pass itself.
    assert.equal(await page.text('#verdict-vaccine'), 'Vaccine: 3 doses, last 2022-01-15');
    assert.match(await page.text('#verdict-test'), /^Test: negative, 2[01] h( \d+ min)? ago$/);
    assert.equal(await page.text('#verdict-checked'), 'Checked: green');
    assert.deepEqual(verdict.vaccination, { doses: 3, last_dose: '2022-01-15' });
    assert.match(shown.announced, /^Valid, green\. 张\*明/);
    // Back to scanning by a tap; the list status shows how old the lists are.
    await page.click('#next');
    await verdictHidden(page);
    assert.match(await page.text('#freshness'), /^Trust list OK: issued 1 d ago, expires in (29|30) d/);
    // The profile selector lists the core's profiles, the chosen one shown.
    const profiles = await page.run(() => [...document.querySelectorAll('#profile option')].map((o) => o.value));
    assert.deepEqual(profiles.slice().sort(), ['hospital', 'office', 'outdoor', 'subway']);
    assert.equal(await page.run(() => document.getElementById('profile').value), 'subway');
    // The list server's clock and this phone's agree: no warning.
    assert.equal((await page.run(() => globalThis.sealpassClock)).off, false);
    assert.equal(await page.isVisible('#clock-off'), false);
    // The camera's picture is on the screen (not a black area).
    assert.ok(await page.run(() => document.getElementById('video').videoWidth > 0), 'the video plays');
    // The app must be ready to work offline before the server goes away.
    await page.run(() => navigator.serviceWorker.ready.then(() => true));
    // Decoding while the pass stays in front of the camera.
    await pause(3000);
    const stats = await page.run(() => ({ ...globalThis.sealpassScanStats, recent: undefined }));
    assert.ok(stats.samples >= 10, `only ${stats.samples} frames decoded`);
    writeFileSync(join(out, 'decode-with-pass.json'), JSON.stringify(stats));
  } finally {
    await hangUp(page);
  }
});

// Live codes (issue 18): the fixture's code is signed 25 s ahead of the
// suite's start, so it stays inside its 60 s window for the first 80 s.
test('a live code from the bound phone is valid and says so; shown again it is warned of', async () => {
  const page = await phone('live.y4m');
  try {
    const { verdict } = await verdictOf(page, 'live');
    assert.equal(verdict.verdict, 'valid', JSON.stringify(verdict));
    assert.equal(verdict.holder_bound, true);
    assert.equal(verdict.already_scanned_seconds_ago, null);
    assert.match(await page.text('#verdict-holder'), /^Live code from the holder's phone, signed \d+ s ago$/);
    assert.equal(await page.isVisible('#verdict-seen'), false);
    // The worker taps "next" and the same code is still in front of the
    // camera: accepted again, with a warning to look at the person.
    await page.click('#next');
    await verdictHidden(page);
    await verdictShown(page);
    const again = await page.run(() => globalThis.sealpassLastVerdict);
    assert.equal(again.verdict, 'valid');
    assert.ok(again.already_scanned_seconds_ago >= 2, JSON.stringify(again));
    assert.match(await page.text('#verdict-seen'), /^ALREADY SCANNED \d+ s ago here: look at the person$/);
    await page.screenshot(shot('web-verifier-live-again'));
  } finally {
    await hangUp(page);
  }
});

for (const [article, name, code, reason] of [
  ['an', 'expired', 'expired', /^expired 3 h 1\d min ago$/],
  ['a', 'tampered', 'bad_signature', /^signature does not verify$/],
]) {
  test(`${article} ${name} pass shows red with the reason "${code}"`, async () => {
    const page = await phone(`${name}.y4m`);
    try {
      const { verdict, shown } = await verdictOf(page, name);
      assert.equal(verdict.verdict, 'not_valid');
      assert.equal(verdict.code, code);
      assert.match(shown.className, /\bnot_valid\b/);
      assert.equal(shown.background, 'rgb(200, 16, 46)');
      assert.equal(shown.word, 'NOT VALID');
      assert.match(shown.reason, reason);
      assert.equal(shown.name, '');
    } finally {
      await hangUp(page);
    }
  });
}

/** A new phone (its own profile) against its own server, closed after `work`. */
async function otherPhone(lists, options, film, work) {
  const http = await serve([dist, lists], options);
  const at = `http://127.0.0.1:${http.address().port}/`;
  const profile = mkdtempSync(join(tmpdir(), `sealpass-${ENGINE}-`));
  const page = await phone(film, profile);
  try {
    await work(page, at);
  } finally {
    await hangUp(page);
    await new Promise((resolvePromise) => http.close(resolvePromise));
    rmSync(profile, { recursive: true, force: true });
  }
}

// Finding 1: revocation fails closed. The server has the status list but
// answers 404 for it; the camera films the revoked pass. Its clock is also
// 5 min behind the phone's, which the phone warns of (live codes, issue 18).
test('with the status list answering 404, a revoked pass is never valid: amber "could not check revocation", and not ready', async () => {
  const serverOptions = { notFound: /^\/status\//, clockOffset: -300 };
  await otherPhone(join(fixtures, 'site-lists'), serverOptions, 'revoked.y4m', async (page, at) => {
    const { verdict, shown } = await verdictOf(page, 'revocation-not-checked', at);
    assert.equal(verdict.verdict, 'undecided');
    assert.equal(verdict.valid, false);
    assert.equal(verdict.code, 'revocation_not_checked');
    assert.equal(verdict.phase, 'revocation');
    assert.match(shown.className, /\bundecided\b/);
    assert.match(shown.className, /\bunchecked\b/);
    assert.equal(shown.background, 'rgb(168, 67, 0)');
    assert.equal(shown.word, 'CANNOT DECIDE');
    assert.equal(shown.reason, 'Could not check revocation');
    assert.equal(await page.text('#verdict-action'), 'Sync the lists now. Do not admit on this pass until then.');
    assert.match(await page.text('#verdict-detail'), /^could not check revocation: no status list of issuer CN-610100 is held/);
    assert.equal(await page.isVisible('#verdict-sync'), true);
    assert.equal(shown.name, '');
    assert.match(shown.announced, /^CANNOT DECIDE\. Could not check revocation\. Sync the lists now/);
    // The lists say why the phone is not ready.
    await page.click('#next');
    await verdictHidden(page);
    const status = await page.run(() => globalThis.sealpassStatus);
    assert.equal(status.ready, false);
    assert.equal(status.code, 'revocation_not_checked');
    assert.equal(status.status_lists[0].state, 'missing');
    assert.match(await page.text('#readiness'), /^NOT READY: revocation cannot be checked for CN-610100/);
    assert.equal(await page.isVisible('#readiness'), true);
    assert.match(await page.text('#sync-result'), /status list of CN-610100: not reachable \(.*HTTP 404\)/);
    assert.match(await page.text('#list-details'), /Status list of CN-610100: NONE/);
    // This phone's clock against the list server's.
    assert.equal(await page.text('#clock-off'), 'This phone\'s clock is 5 min ahead of the list server\'s: live codes will be refused. Set the clock.');
    assert.ok((await page.run(() => globalThis.sealpassClock)).offset_seconds >= 299);
    // The same pass in Chinese.
    await page.click('#lang');
    await pause(2600);
    await verdictShown(page);
    assert.equal(await page.text('#verdict-word'), '无法判断');
    assert.equal(await page.text('#verdict-reason'), '无法核验撤销状态');
    assert.equal(await page.text('#verdict-action'), '请立即同步吊销列表。同步前请勿凭此码放行。');
    await page.screenshot(shot('web-verifier-revocation-not-checked-zh'));
    await page.click('#next');
    assert.match(await page.text('#readiness'), /^未就绪：无法核验 CN-610100 的撤销状态/);
    assert.match(await page.text('#clock-off'), /^本机时钟比名单服务器快 5 分钟：/);
  });
});

/**
 * Click `css`, which asks confirm(), and answer it. WebKitGTK's MiniBrowser
 * under WebDriver shows no dialog to answer (the User Prompts commands find
 * "no such alert"), so there the page's confirm() is replaced by the answer:
 * what the app does with each answer is still tested, not the dialog.
 */
async function confirmThen(page, css, accept) {
  if (ENGINE === 'webkit') {
    await page.run((answer) => { window.confirm = () => answer; }, accept);
    await page.click(css);
    return;
  }
  await page.click(css);
  await page.answerPrompt(accept);
}

test('a status list that runs out before the next planned sync is warned of; resetting trust pins the roots again', async () => {
  await otherPhone(join(fixtures, 'site-lists-short'), {}, 'blank.y4m', async (page, at) => {
    await open(page, at);
    const status = await page.run(() => globalThis.sealpassStatus);
    assert.equal(status.ready, true, JSON.stringify(status));
    assert.equal(status.status_lists[0].state, 'current');
    assert.equal(status.status_lists[0].expires_before_next_sync, true);
    assert.equal(status.warnings.length, 1);
    const warning = await page.text('#warnings li');
    assert.equal(warning, `T${status.warnings[0].slice(1)}`);
    assert.match(warning, /^The status list of CN-610100 expires in (1 h 5\d min|2 h), before the next planned sync \(in (5 h 5\d min|6 h)\)/);
    assert.equal(await page.run(() => getComputedStyle(document.getElementById('warnings')).color), 'rgb(255, 213, 74)');
    await page.screenshot(shot('web-verifier-sync-warning'));
    await page.click('#lang');
    // The page re-renders the panel after the switch: wait for it.
    await page.waitFor(() => !document.querySelector('#warnings li')?.textContent.startsWith('The '));
    assert.match(await page.text('#warnings li'), /^CN-610100 的吊销列表将在 (1 小时 5\d 分钟|2 小时)后过期，早于下次计划同步/);
    await page.click('#lang');
    // The explicit re-pin: behind a confirmation, then the page pins
    // roots.cbor again (fetched only when no roots are held).
    const rootsFetched = () => requests.filter((path) => path === '/roots.cbor').length;
    const before = rootsFetched();
    await page.click('summary', { text: 'Settings and details' });
    await confirmThen(page, '#reset-trust', false);
    await pause(500);
    assert.equal(rootsFetched(), before, 'a dismissed confirmation changes nothing');
    await page.run(() => { document.documentElement.dataset.e2eOld = 'true'; });
    await confirmThen(page, '#reset-trust', true);
    await ready(page);
    assert.equal(rootsFetched(), before + 1, `requests: ${requests.slice(-12)}`);
    assert.equal((await page.run(() => globalThis.sealpassStatus)).trust_list.sequence, 1);
  });
});

// Finding 7: text from a pass is put into the page as text, never parsed.
test('markup in a pass is shown as text, never run', async () => {
  const passes = JSON.parse(readFileSync(join(fixtures, 'passes.json'), 'utf8'));
  const page = await phone('blank.y4m');
  try {
    await open(page, origin);
    await page.click('summary', { text: 'Type or paste a pass' });
    const typed = async (text) => {
      await page.fill('#pass-text', text);
      await page.click('#typed button[type="submit"]');
      await verdictShown(page);
      return page.run(() => globalThis.sealpassLastVerdict);
    };
    const markup = '<img src=x onerror=globalThis.sealpassXss=1>';
    const named = await typed(passes.hostile_name);
    assert.equal(named.code, 'valid');
    assert.equal(named.masked_name, `${markup}张*明`);
    assert.equal(await page.text('#verdict-name'), `${markup}张*明`);
    assert.match(await page.text('#announce'), /<img src=x onerror=/);
    await page.click('#next');
    await verdictHidden(page);
    // The pass inside a live code, copied out and typed: refused, in both languages.
    const bare = await typed(passes.bound_bare);
    assert.equal(bare.code, 'bound_pass_not_live');
    assert.equal(await page.text('#verdict-word'), 'NOT VALID');
    await page.click('#next');
    await verdictHidden(page);
    await page.click('#lang');
    await typed(passes.bound_bare);
    assert.equal(await page.text('#verdict-reason'), '此码已绑定持有人手机：只接受手机上的动态码，不接受截图或复制件');
    await page.click('#next');
    await verdictHidden(page);
    await page.click('#lang');
    const issuer = await typed(passes.hostile_issuer);
    assert.equal(issuer.code, 'issuer_mismatch');
    assert.match(await page.text('#verdict-reason'), /names issuer <img src=x onerror=/);
    await pause(300);
    assert.equal(await page.count('img'), 0, 'no element was made from the pass');
    assert.equal(await page.run(() => globalThis.sealpassXss === undefined), true);
    await page.click('#next');
  } finally {
    await hangUp(page);
  }
});

// The issuer serves the verifier at /verify/ on the citizen page's origin:
// a verifier update must leave the citizen page's offline copy, and any
// other cache, alone, and drop only the verifier's own older caches.
test('a new build\'s service worker deletes only the verifier\'s own older caches', async () => {
  const sw = { suffix: '' };
  await otherPhone(join(fixtures, 'site-lists'), { sw }, 'blank.y4m', async (page, at) => {
    await open(page, at);
    const current = await page.run(async () => {
      await navigator.serviceWorker.ready;
      const put = async (name) => (await caches.open(name)).put(`/probe-${name}`, new Response(name));
      await put('sealpass-citizen-v1');
      await put('someone-else');
      await put('sealpass-checkpoint-0000000000000000');
      return (await caches.keys()).filter((name) => /^sealpass-checkpoint-[0-9a-f]{16}$/.test(name) && !name.endsWith('0000000000000000'));
    });
    assert.equal(current.length, 1, `one cache of this build: ${current}`);
    sw.suffix = '-next';
    await page.run(async () => (await navigator.serviceWorker.getRegistration()).update());
    const next = `${current[0]}-next`;
    await page.waitFor(async (name) => (await caches.keys()).includes(name)
      && (await navigator.serviceWorker.getRegistration()).active?.state === 'activated'
      && !(await caches.keys()).includes(name.slice(0, -'-next'.length)), [next], { message: 'the new build activated' });
    const names = await page.run(async () => (await caches.keys()).sort());
    assert.deepEqual(names, [next, 'sealpass-citizen-v1', 'someone-else'].sort());
    assert.equal(await page.run(async () => (await (await caches.open('sealpass-citizen-v1')).match('/probe-sealpass-citizen-v1'))?.text()), 'sealpass-citizen-v1');
  });
});

test('with the server stopped, the page opens from the service worker and still refuses a revoked pass', async () => {
  await new Promise((resolvePromise) => server.close(resolvePromise));
  server = null;
  const before = requests.length;
  const page = await phone('revoked.y4m');
  try {
    const { verdict, shown } = await verdictOf(page, 'revoked');
    assert.equal(verdict.code, 'pass_revoked');
    assert.equal(verdict.phase, 'revocation');
    assert.match(shown.className, /\bnot_valid\b/);
    assert.equal(shown.reason, 'pass revoked');
    assert.match(await page.text('#sync-result'), /trust list: not reachable/);
    // A reload still works, and still decides.
    await open(page);
    await verdictShown(page);
    assert.equal(await page.run(() => globalThis.sealpassLastVerdict.code), 'pass_revoked');
    // The same pass in Chinese.
    await page.click('#next');
    await page.click('#lang');
    await pause(2600);
    await verdictShown(page);
    assert.equal(await page.text('#verdict-word'), '无效');
    assert.equal(await page.text('#verdict-reason'), '通行码已被吊销');
    await page.screenshot(shot('web-verifier-revoked-zh'));
    await page.click('#next');
    await page.click('#lang');
  } finally {
    await hangUp(page);
  }
  assert.equal(requests.length, before, 'nothing reached the stopped server');
});

test('frames without a code: decode time per frame', async () => {
  const page = await phone('blank.y4m');
  try {
    await open(page, origin);
    await pause(4000);
    const stats = await page.run(() => ({ ...globalThis.sealpassScanStats, recent: undefined }));
    assert.ok(stats.samples >= 10, `only ${stats.samples} frames decoded`);
    assert.equal(await page.isVisible('#verdict'), false);
    assert.match(await page.text('#freshness'), /^Trust list OK/);
    await page.screenshot(shot('web-verifier-scanner'));
    writeFileSync(join(out, 'decode-without-pass.json'), JSON.stringify(stats));
    // A text that is no pass, typed: grey, "cannot decide".
    await page.click('summary', { text: 'Type or paste a pass' });
    await page.fill('#pass-text', 'SP1:hello');
    await page.click('#typed button[type="submit"]');
    await verdictShown(page);
    const verdict = await page.run(() => globalThis.sealpassLastVerdict);
    assert.equal(verdict.verdict, 'undecided');
    assert.equal(verdict.source, 'typed');
    assert.equal(await page.text('#verdict-word'), 'CANNOT DECIDE');
    assert.equal(await page.run(() => getComputedStyle(document.getElementById('verdict')).backgroundColor), 'rgb(74, 79, 87)');
    await page.screenshot(shot('web-verifier-undecided'));
    const wasm = readFileSync(join(dist, 'pkg/sealpass_web_bg.wasm')).length;
    console.log(`${ENGINE}: wasm ${wasm} bytes; decode per frame: ${readFileSync(join(out, 'decode-with-pass.json'))} with a pass, ${JSON.stringify(stats)} without`);
  } finally {
    await hangUp(page);
  }
});
