// A small W3C WebDriver client (https://www.w3.org/TR/webdriver2/) over
// fetch, for the end-to-end suites of the web verifier (this folder) and of
// the citizen page (issuer/web/tests/e2e), in three engines:
//
//   chromium  Debian's chromium through chromedriver (package chromium-driver)
//   firefox   Debian's firefox-esr through geckodriver (cargo install geckodriver)
//   webkit    Debian's WebKitGTK MiniBrowser through WebKitWebDriver
//             (package webkit2gtk-driver), under xvfb-run (package xvfb)
//
// The protocol is plain HTTP and JSON, so this is all the client there is:
// one function per command the suites use, and `waitFor`, which polls a
// function run in the page.
//
//   ENGINE=firefox npm test

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const ENGINE = process.env.ENGINE || 'chromium';
const ENGINES = ['chromium', 'firefox', 'webkit'];
if (!ENGINES.includes(ENGINE)) throw new Error(`ENGINE must be one of ${ENGINES.join(', ')}, not ${ENGINE}`);

const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const geckodriver = [join(homedir(), '.cargo/bin/geckodriver'), '/usr/local/bin/geckodriver', '/usr/bin/geckodriver']
  .find((path) => existsSync(path)) || 'geckodriver';

/** What each engine needs installed, checked before a suite starts. */
export const REQUIRED = {
  chromium: [process.env.CHROMIUM || '/usr/bin/chromium', '/usr/bin/chromedriver'],
  firefox: ['/usr/bin/firefox-esr', geckodriver],
  webkit: [MINIBROWSER, '/usr/bin/WebKitWebDriver', '/usr/bin/xvfb-run'],
}[ENGINE];

export function missing() {
  return REQUIRED.filter((path) => !existsSync(path));
}

/** A free port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePromise(port));
    });
  });
}

const sleep = (ms) => new Promise((resolvePromise) => setTimeout(resolvePromise, ms));

/** The driver's command line and the session's capabilities, for `options`. */
function driverFor(port, { profileDir, camera, width, height, mobile, browserArgs = [] }) {
  if (ENGINE === 'chromium') {
    const args = [
      '--no-sandbox', '--headless', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--lang=en-GB', `--window-size=${width},${height}`,
      '--autoplay-policy=no-user-gesture-required',
      // Chromium's fake camera plays a .y4m file, or a test pattern without one.
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      ...(camera ? [`--use-file-for-fake-video-capture=${camera}`] : []),
      ...(profileDir ? [`--user-data-dir=${profileDir}`] : []),
      ...browserArgs,
    ];
    const options = { binary: process.env.CHROMIUM || '/usr/bin/chromium', args, prefs: { 'intl.accept_languages': 'en-GB' } };
    // The viewport of a phone's screen (a headless window is at least 500 wide).
    options.mobileEmulation = { deviceMetrics: { width, height, pixelRatio: mobile ? 2 : 1, touch: !!mobile, mobile: !!mobile } };
    return {
      command: ['/usr/bin/chromedriver', `--port=${port}`],
      capabilities: { browserName: 'chrome', 'goog:chromeOptions': options },
    };
  }
  if (ENGINE === 'firefox') {
    return {
      command: [geckodriver, '--port', String(port), '--log', 'error'],
      capabilities: {
        browserName: 'firefox',
        'moz:firefoxOptions': {
          binary: '/usr/bin/firefox-esr',
          args: ['-headless', `--width=${width}`, `--height=${height}`, ...(profileDir ? ['-profile', profileDir] : [])],
          prefs: {
            'intl.accept_languages': 'en-GB',
            // Firefox's fake camera (a test pattern) and no permission prompt.
            'media.navigator.streams.fake': true,
            'media.navigator.permission.disabled': true,
            'media.autoplay.default': 0,
            'browser.shell.checkDefaultBrowser': false,
          },
        },
      },
    };
  }
  return {
    // WebKitWebDriver starts MiniBrowser with --automation; it needs a display.
    command: ['/usr/bin/xvfb-run', '-a', '-s', '-screen 0 1280x1024x24', '/usr/bin/WebKitWebDriver', `--port=${port}`],
    capabilities: {
      'webkitgtk:browserOptions': {
        binary: MINIBROWSER,
        args: ['--automation', '--enable-media-stream=true', '--enable-mock-capture-devices=true', ...browserArgs],
      },
    },
  };
}

/**
 * Start the engine's driver and one browser session. `profileDir` keeps the
 * browser's storage between launches (Chromium and Firefox; WebKitGTK's
 * MiniBrowser always runs ephemeral under automation); `camera` is a .y4m
 * file for Chromium's fake camera; `pageLoadStrategy` 'none' makes `goto`
 * return once the navigation has started.
 */
export async function launch(options = {}) {
  const width = options.width || 412;
  const height = options.height || 860;
  if (options.profileDir) mkdirSync(options.profileDir, { recursive: true });
  const port = await freePort();
  const { command, capabilities } = driverFor(port, { ...options, width, height });
  const log = [];
  const driver = spawn(command[0], command.slice(1), {
    detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LANG: 'C.UTF-8', LANGUAGE: 'en_GB' },
  });
  driver.stdout.on('data', (chunk) => log.push(String(chunk)));
  driver.stderr.on('data', (chunk) => log.push(String(chunk)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i += 1) {
    try {
      if ((await fetch(`${url}/status`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 150 || driver.exitCode !== null) {
      stopDriver(driver);
      throw new Error(`${command[0]} did not start: ${log.join('')}`);
    }
    await sleep(100);
  }
  let session;
  try {
    session = await command_(url, 'POST', '/session', {
      capabilities: {
        alwaysMatch: { ...capabilities, unhandledPromptBehavior: 'ignore', pageLoadStrategy: options.pageLoadStrategy || 'normal' },
      },
    });
  } catch (error) {
    stopDriver(driver);
    throw new Error(`${ENGINE}: no session: ${error.message}\n${log.join('')}`);
  }
  const browser = new Browser(driver, `${url}/session/${session.sessionId}`, log);
  if (ENGINE !== 'chromium') {
    await browser.command('POST', '/window/rect', { width, height }).catch(() => {});
  }
  await browser.command('POST', '/timeouts', { script: 60_000, pageLoad: 60_000, implicit: 0 });
  return browser;
}

function stopDriver(driver) {
  try {
    process.kill(-driver.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

async function command_(url, method, path, body) {
  const response = await fetch(url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(`${method} ${path}: ${json.value?.error}: ${json.value?.message}`);
    error.code = json.value?.error;
    throw error;
  }
  return json.value;
}

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export class Browser {
  constructor(driver, session, log) {
    this.driver = driver;
    this.session = session;
    this.log = log;
    this.engine = ENGINE;
  }

  command(method, path, body) {
    return command_(this.session, method, path, body);
  }

  async quit() {
    await this.command('DELETE', '').catch(() => {});
    stopDriver(this.driver);
    await new Promise((resolvePromise) => {
      if (this.driver.exitCode !== null) resolvePromise();
      else this.driver.on('exit', resolvePromise);
    });
  }

  goto(url) {
    return this.command('POST', '/url', { url });
  }

  /**
   * Reload as a person does (F5): geckodriver's Refresh command bypasses
   * the service worker, so an offline page would not come back.
   */
  reload() {
    return this.run(() => { setTimeout(() => location.reload(), 0); });
  }

  /** Run `fn(...args)` in the page and return its (awaited) result. */
  run(fn, ...args) {
    return this.command('POST', '/execute/sync', { script: `return (${fn}).apply(null, arguments);`, args });
  }

  /** Poll `fn(...args)` in the page until it returns something truthy. */
  async waitFor(fn, args = [], { timeout = 30_000, message } = {}) {
    const until = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        const value = await this.run(fn, ...args);
        if (value) return value;
      } catch (error) {
        // A navigation in progress, or the page not there yet.
        last = error;
      }
      if (Date.now() > until) {
        throw new Error(`timed out after ${timeout} ms waiting for ${message || fn}${last ? ` (${last.message})` : ''}`);
      }
      await sleep(100);
    }
  }

  /** Wait until an element matches `css`, optionally only when visible. */
  waitForSelector(css, { visible = false, timeout } = {}) {
    return this.waitFor((selector, mustShow) => {
      const el = document.querySelector(selector);
      return !!el && (!mustShow || !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length));
    }, [css, visible], { timeout, message: css });
  }

  async element(css) {
    const found = await this.command('POST', '/element', { using: 'css selector', value: css });
    return found[ELEMENT];
  }

  /** The element matching `css` whose text contains `text`. */
  async elementWithText(css, text) {
    const all = await this.command('POST', '/elements', { using: 'css selector', value: css });
    for (const el of all) {
      const shown = await this.command('GET', `/element/${el[ELEMENT]}/property/textContent`);
      if (shown.includes(text)) return el[ELEMENT];
    }
    throw new Error(`no ${css} with the text ${text}`);
  }

  async click(css, { text } = {}) {
    const id = text === undefined ? await this.element(css) : await this.elementWithText(css, text);
    await this.command('POST', `/element/${id}/click`, {});
  }

  text(css) {
    return this.run((selector) => document.querySelector(selector).textContent, css);
  }

  attribute(css, name) {
    return this.run((selector, attribute) => document.querySelector(selector).getAttribute(attribute), css, name);
  }

  count(css) {
    return this.run((selector) => document.querySelectorAll(selector).length, css);
  }

  isVisible(css) {
    return this.run((selector) => {
      const el = document.querySelector(selector);
      return !!el && !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
    }, css);
  }

  /** Set a field's value as a person typing it would leave it. */
  fill(css, value) {
    return this.run((selector, text) => {
      const field = document.querySelector(selector);
      field.value = text;
      field.dispatchEvent(new Event('input', { bubbles: true }));
    }, css, value);
  }

  /** The viewport, once what the page just changed is painted (WebKitGTK may show the frame before). */
  async screenshot(path) {
    await this.run(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 50)))));
    writeFileSync(path, Buffer.from(await this.command('GET', '/screenshot'), 'base64'));
  }

  /** The element, scrolled into view first (WebKitGTK shoots only what is on the screen). */
  async elementScreenshot(css, path) {
    await this.run((selector) => document.querySelector(selector).scrollIntoView({ block: 'center' }), css);
    await this.run(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 50)))));
    const id = await this.element(css);
    writeFileSync(path, Buffer.from(await this.command('GET', `/element/${id}/screenshot`), 'base64'));
  }

  /** Answer the open confirm() or alert(), waiting for it to open. */
  async answerPrompt(accept) {
    const until = Date.now() + 10_000;
    for (;;) {
      try {
        await this.command('POST', accept ? '/alert/accept' : '/alert/dismiss', {});
        return;
      } catch (error) {
        if (error.code !== 'no such alert' || Date.now() > until) throw error;
        await sleep(50);
      }
    }
  }

  /** A Chrome DevTools Protocol command (chromedriver only). */
  cdp(cmd, params = {}) {
    if (this.engine !== 'chromium') throw new Error(`${this.engine} has no DevTools protocol here`);
    return this.command('POST', '/goog/cdp/execute', { cmd, params });
  }

  async newTab() {
    const { handle } = await this.command('POST', '/window/new', { type: 'tab' });
    return handle;
  }

  window() {
    return this.command('GET', '/window');
  }

  switchTo(handle) {
    return this.command('POST', '/window', { handle });
  }

  closeTab() {
    return this.command('DELETE', '/window');
  }
}

export const pause = sleep;
