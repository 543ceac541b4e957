// The citizen page: log in, show the pass as a large QR code drawn here
// from the pass text (or, for a pass bound to this phone, a live code the
// phone signs every 10 s: holder.js), keep it fresh in the background, and
// keep showing the last pass when the network is gone (localStorage for
// the pass, IndexedDB for the device key, the service worker for the
// page). docs/public-api.md, "The citizen page".

import { blankQr, drawQr } from '/qr.js';
import { language, locale, setLanguage, t } from '/i18n.js';
import {
  currentCode, forgetBinding, holderNote, holderOf, keepAwake, loadKey, maybeBind, renew, revokedByBinding, startRenewing,
  stopRenewing,
} from '/holder.js';

const $ = (id) => document.getElementById(id);
const TOKEN = 'sealpass.token';
const PASS = 'sealpass.pass';
const OPTIONS = 'sealpass.login-options';
/** Check for a new pass at least this often while the page is open. */
const CHECK_EVERY_MS = 5 * 60 * 1000;
/** Warn when this phone's clock and the server's differ by more (a checkpoint allows 30 s ahead). */
const CLOCK_WARN_SECONDS = 30;

let pass = null; // the pass shown: the API's JSON plus saved_at
let loginOptions = { demo: false, login_url: null, device_binding: false };
let timer = null;
let lastStatus = null; // [key, ...args], re-said in the other language
let clockOff = 0; // this phone's clock minus the server's, in whole seconds, when last online

function savedPass() {
  try {
    const p = JSON.parse(localStorage.getItem(PASS) || 'null');
    return p && typeof p.pass === 'string' && p.pass.startsWith('SP1:') ? p : null;
  } catch {
    return null;
  }
}

function formatTime(seconds, withDate = true) {
  const options = withDate
    ? { dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' }
    : { timeStyle: 'medium', hourCycle: 'h23' };
  return new Intl.DateTimeFormat(locale(), options).format(new Date(seconds * 1000));
}

/** Say `key` in the polite live region; `args` may be functions, so that
 * times are formatted anew when the language changes. */
function status(key, ...args) {
  lastStatus = [key, ...args];
  $('status').textContent = t(key, ...args.map((a) => (typeof a === 'function' ? a() : a)));
}

// ---- the pass ------------------------------------------------------------

function showPass(p) {
  pass = p;
  const now = Date.now() / 1000;
  const expired = p.valid_until <= now;
  const colourWord = t(`colour_${p.colour}`);
  $('pass').hidden = false;
  // A pass bound to another phone is greyed too: its colour alone must not pass a gate.
  const elsewhere = holderOf(p) === 'other';
  $('band').className = `band ${expired ? 'expired' : elsewhere ? 'elsewhere' : p.colour}`;
  $('band-word').textContent = expired ? `${colourWord} · ${t('expired_word')}`
    : elsewhere ? `${colourWord} · ${t('elsewhere_word')}` : t('band_label', colourWord);
  $('name').textContent = p.masked_name;
  $('id-number').textContent = p.masked_id;
  showHealthLines(p);
  $('valid-until').textContent = formatTime(p.valid_until);
  const canvas = $('qr');
  const shown = shownText(p);
  $('pass-text').textContent = shown;
  if (shown) {
    drawQr(canvas, shown);
  } else {
    blankQr(canvas);
  }
  canvas.hidden = !shown;
  const live = holderOf(p) === 'mine';
  canvas.setAttribute('aria-label', t(live ? 'qr_label_live' : 'qr_label', colourWord, p.masked_name, formatTime(p.valid_until)));
  canvas.classList.toggle('faded', expired);
  showHolder(p);
  $('expired').hidden = !expired;
  $('expired').textContent = expired ? t('expired', formatTime(p.valid_until)) : '';
}

/**
 * The text the QR shows for `p`: the live code for a pass bound to this
 * phone, the pass itself when it is bound to no phone (and this phone's
 * binding did not just revoke it), nothing for a pass bound to another
 * key (every checkpoint would refuse it).
 */
function shownText(p) {
  const holder = holderOf(p);
  if (holder === 'plain') return revokedByBinding(p) ? '' : p.pass;
  const code = currentCode();
  return holder === 'mine' && code && code.pass === p.pass ? code.text : '';
}

/** Say which code is shown, and why a pass is not (yet) a live code. */
function showHolder(p) {
  const holder = holderOf(p);
  const kind = $('code-kind');
  kind.className = `code-kind ${holder}`;
  const plain = revokedByBinding(p) ? 'live_code_coming' : 'plain_pass';
  const says = { mine: 'live_code', plain, other: 'not_this_phone' }[holder];
  kind.textContent = says ? t(says) : '';
  const note = holderNote();
  $('holder-note').hidden = !note;
  $('holder-note').textContent = note ? t(...note) : '';
  $('bind-here').hidden = !(holder === 'other' && note && note[0] === 'moved_away');
  const clock = $('clock-warning');
  clock.hidden = Math.abs(clockOff) <= CLOCK_WARN_SECONDS;
  clock.textContent = clock.hidden ? '' : t(clockOff > 0 ? 'clock_ahead' : 'clock_behind', Math.abs(clockOff));
}

/** Sign a new live code (a pass bound to this phone) and show it; otherwise keep the pass as it is shown. */
async function showLive() {
  if (!pass) return;
  if (holderOf(pass) !== 'mine' || pass.valid_until <= Date.now() / 1000) {
    stopRenewing();
    showPass(pass);
    return;
  }
  try {
    await renew(pass);
  } catch (error) {
    // A damaged saved pass: say so rather than show a code no one accepts.
    status('live_failed', error.code || error.name);
  }
  if (pass) showPass(pass);
  startRenewing(showLive);
}

/** The vaccination and test lines, as Xi'an's code showed them: from the
 * pass (a pass saved before they were served has none), the test's age
 * counted on this phone's clock. */
function showHealthLines(p) {
  const v = p.vaccination;
  const doses = v ? (v.doses === 1 ? t('one_dose') : t('doses', v.doses)) : '';
  showKeepingDates($('vaccine'), v && v.last_dose ? t('last_dose', doses, v.last_dose) : doses);
  $('test').textContent = !v ? '' : p.test
    ? t('test_ago', t(p.test.result), ago(Date.now() / 1000 - p.test.taken_at))
    : t('no_test');
}

/** `text` in `element`, each date (YYYY-MM-DD) kept whole on one line. */
function showKeepingDates(element, text) {
  element.replaceChildren(...text.split(/(\d{4}-\d{2}-\d{2})/).map((part, i) => {
    if (i % 2 === 0) return document.createTextNode(part);
    const date = document.createElement('span');
    date.className = 'date';
    date.textContent = part;
    return date;
  }));
}

/** `20 h`, `45 min`, `3 d`: how long ago, roughly, in the page's language. */
function ago(seconds) {
  const s = Math.max(0, seconds);
  if (s < 3600) return t('minutes', Math.floor(s / 60));
  if (s < 2 * 86400) return t('hours', Math.floor(s / 3600));
  return t('days', Math.floor(s / 86400));
}

function keepPass(p) {
  const saved = { ...p, saved_at: Math.floor(Date.now() / 1000) };
  localStorage.setItem(PASS, JSON.stringify(saved));
  return saved;
}

// ---- talking to the issuer ------------------------------------------------

/** This phone's clock against the server's `Date` (whole seconds: only a large difference matters). */
function checkClock(response, at) {
  const server = Date.parse(response.headers.get('Date') || '');
  if (Number.isNaN(server)) return;
  const off = Math.round(at - server / 1000);
  // Date has whole seconds: a second either way is not the phone's fault.
  clockOff = Math.abs(off) <= 1 ? 0 : off;
}

/** The pass again, without If-None-Match, kept and shown (for the bound pass after a binding). */
async function downloadPass(token) {
  try {
    const response = await fetch('/api/v1/pass', { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
    if (!response.ok) return null;
    checkClock(response, Date.now() / 1000);
    pass = keepPass(await response.json());
    await showLive();
    return pass;
  } catch {
    return null;
  }
}

/** Bind this phone if the pass asks for it (holder.js says when), and show what came of it. */
async function bindIfAsked(token, options) {
  if (!pass) return;
  const before = pass.version;
  await maybeBind(pass, token, () => downloadPass(token), { ...options, enabled: loginOptions.device_binding === true });
  if (pass) showPass(pass);
  if (pass && pass.version !== before && holderOf(pass) === 'mine') {
    status('bound_now', () => formatTime(Date.now() / 1000, false));
  }
}

function schedule(ms) {
  clearTimeout(timer);
  timer = setTimeout(refresh, Math.max(5000, ms));
}

/** When to look again: every few minutes, and just after the signer renews. */
function nextCheck(p) {
  if (!p) return CHECK_EVERY_MS;
  const renew = (p.next_pass_at + 30 + Math.random() * 60) * 1000 - Date.now();
  return renew > 0 ? Math.min(CHECK_EVERY_MS, renew) : CHECK_EVERY_MS;
}

async function refresh() {
  const token = localStorage.getItem(TOKEN);
  if (!token) {
    showLogin();
    return;
  }
  const headers = { Authorization: `Bearer ${token}` };
  if (pass && pass.version) headers['If-None-Match'] = `"${pass.version}"`;
  let response;
  try {
    response = await fetch('/api/v1/pass', { headers, cache: 'no-store' });
  } catch {
    if (pass) {
      const savedAt = pass.saved_at;
      status('offline', () => formatTime(savedAt));
    }
    schedule(60 * 1000);
    return;
  }
  const at = Date.now() / 1000;
  const clock = () => formatTime(at, false);
  checkClock(response, at);
  if (response.status === 304 && pass) {
    status('checked', clock);
    schedule(nextCheck(pass));
    showPass(pass);
    bindIfAsked(token);
  } else if (response.ok) {
    const fresh = await response.json();
    const changed = !pass || pass.version !== fresh.version;
    pass = keepPass(fresh);
    await showLive();
    $('login').hidden = true;
    bindIfAsked(token);
    if (changed) {
      status('updated', clock, fresh.masked_name, () => formatTime(fresh.valid_until));
    } else {
      status('checked', clock);
    }
    schedule(nextCheck(fresh));
  } else if (response.status === 401) {
    localStorage.removeItem(TOKEN);
    showLogin(t('login_again'));
  } else if (response.status === 429 || response.status === 503) {
    const seconds = Number(response.headers.get('Retry-After')) || 5;
    status('busy', seconds);
    schedule(seconds * 1000 + Math.random() * 1000);
  } else {
    let code = '';
    try {
      code = (await response.json()).error;
    } catch { /* not JSON */ }
    if (code === 'unknown_subject') {
      showLogin(t('unknown_subject'));
    } else {
      status('not_ready');
      schedule(60 * 1000);
    }
  }
}

// ---- logging in -----------------------------------------------------------

function takeTokenFromFragment() {
  // The city's single sign-on sends people back to /#id_token=...; the
  // fragment never reaches any server.
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get('id_token');
  if (token) {
    localStorage.setItem(TOKEN, token);
    forgetBinding();
    history.replaceState(null, '', location.pathname);
  }
}

/** Seconds to wait after a 429 or 503 (its Retry-After, at most 10). */
function retryAfter(response) {
  return Math.min(Number(response.headers.get('Retry-After')) || 2, 10) + Math.random();
}

/** When the login view is shown, show it again (what it offers arrived late). */
function showLoginAgain() {
  if (!$('login').hidden) showLogin($('login-message').textContent);
}

async function loadLoginOptions(attempt = 0) {
  if (attempt === 0) {
    try {
      loginOptions = JSON.parse(localStorage.getItem(OPTIONS)) || loginOptions;
    } catch { /* nothing saved */ }
  }
  try {
    const response = await fetch('/api/v1/login-options', { cache: 'no-store' });
    if (response.ok) {
      loginOptions = await response.json();
      localStorage.setItem(OPTIONS, JSON.stringify(loginOptions));
    } else if ((response.status === 429 || response.status === 503) && attempt < 5) {
      // Busy: ask again shortly, without holding up the page.
      setTimeout(() => loadLoginOptions(attempt + 1).then(showLoginAgain), retryAfter(response) * 1000);
    }
  } catch { /* offline: keep what we know */ }
  $('demo-banner').hidden = !loginOptions.demo;
}

async function showLogin(message = '') {
  $('login').hidden = false;
  $('login-message').textContent = message;
  $('login-sso').hidden = !loginOptions.login_url;
  if (loginOptions.login_url) $('login-link').href = loginOptions.login_url;
  $('login-demo').hidden = !loginOptions.demo;
  $('login-none').hidden = !!(loginOptions.demo || loginOptions.login_url);
  if (loginOptions.demo) await listDemoCitizens();
}

async function listDemoCitizens() {
  const list = $('demo-citizens');
  if (list.childElementCount > 0) return;
  let citizens = [];
  try {
    const response = await fetch('/demo/idp/citizens', { cache: 'no-store' });
    if (!response.ok) {
      if (response.status === 429 || response.status === 503) setTimeout(showLoginAgain, retryAfter(response) * 1000);
      return;
    }
    citizens = (await response.json()).citizens || [];
  } catch {
    return;
  }
  if (list.childElementCount > 0) return; // listed meanwhile
  for (const citizen of citizens) {
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = `citizen ${citizen.colour}`;
    button.dataset.login = citizen.login;
    button.textContent = t('demo_login_as', citizen.masked_name, t(`colour_${citizen.colour}`));
    button.addEventListener('click', () => demoLogin(citizen.login));
    item.append(button);
    list.append(item);
  }
}

async function demoLogin(login) {
  $('login-message').textContent = t('logging_in');
  try {
    const response = await fetch('/demo/idp/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ login }),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.message || response.statusText);
    localStorage.setItem(TOKEN, body.id_token);
    localStorage.removeItem(PASS);
    forgetBinding();
    pass = null;
    $('login-message').textContent = '';
    await refresh();
  } catch (error) {
    $('login-message').textContent = t('login_failed', error.message);
  }
}

function logout() {
  localStorage.removeItem(TOKEN);
  localStorage.removeItem(PASS);
  forgetBinding();
  stopRenewing();
  pass = null;
  clearTimeout(timer);
  $('pass').hidden = true;
  showLogin(t('logged_out'));
}

// ---- the page -------------------------------------------------------------

/** A clock that ticks every second: a live screen, not a screenshot. */
function tick() {
  showClock();
  setTimeout(tick, 1000 - (Date.now() % 1000) + 5);
}

function showClock() {
  const now = new Date();
  if (pass && now.getSeconds() === 0) showHealthLines(pass);
  $('clock-time').textContent = new Intl.DateTimeFormat(locale(), { timeStyle: 'medium', hourCycle: 'h23' }).format(now);
  $('clock-date').textContent = new Intl.DateTimeFormat(locale(), { dateStyle: 'full' }).format(now);
  const shownExpired = !$('expired').hidden;
  if (pass && shownExpired !== pass.valid_until <= now.getTime() / 1000) showPass(pass);
}

function applyLanguage() {
  const lang = language();
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = `sealpass · ${t('title')}`;
  for (const element of document.querySelectorAll('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n);
  }
  const other = lang === 'zh' ? 'en' : 'zh';
  $('lang').textContent = t('lang_button');
  $('lang').lang = other === 'zh' ? 'zh-CN' : 'en';
  document.querySelector('.clock').setAttribute('aria-label', t('time_now'));
  $('demo-citizens').replaceChildren();
  showClock();
  if (lastStatus) status(...lastStatus);
  if (pass) showPass(pass);
  if (!$('login').hidden) showLogin($('login-message').textContent);
}

async function main() {
  applyLanguage();
  $('lang').addEventListener('click', () => {
    setLanguage(language() === 'zh' ? 'en' : 'zh');
    applyLanguage();
  });
  $('refresh').addEventListener('click', refresh);
  $('logout').addEventListener('click', logout);
  $('bind-here').addEventListener('click', () => {
    const token = localStorage.getItem(TOKEN);
    if (token) bindIfAsked(token, { force: true });
    else showLogin(t('login_to_bind'));
  });
  window.addEventListener('online', refresh);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') return;
    // A new code at once (the last one may be minutes old), then the network.
    showLive().then(keepAwake);
    refresh();
  });
  window.addEventListener('resize', () => pass && showPass(pass));
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js').catch(() => { /* still works online */ });
  }
  takeTokenFromFragment();
  pass = savedPass();
  if (pass) showPass(pass);
  tick();
  // The key comes from IndexedDB; nothing else waits for it.
  loadKey().then(showLive);
  await loadLoginOptions();
  await refresh();
}

main();
