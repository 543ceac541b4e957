// The checkpoint page: camera, verdict screen, lists and sync. Every
// decision is made in the worker by sealpass-core (compiled to wasm), the
// same code as `sealpass-verifier`; this file only shows and stores.

import { STRINGS, pickLanguage, duration, healthLines, reasonText } from './i18n.js';
import { store, statusKey } from './store.js';

const $ = (id) => document.getElementById(id);
const prefs = {
  get: (key) => localStorage.getItem(`sealpass.${key}`),
  set: (key, value) => localStorage.setItem(`sealpass.${key}`, value),
};

let lang = pickLanguage(prefs.get('lang'), navigator.language);
let t = STRINGS[lang];
let profiles = [];
let worker;
let calls = new Map();
let nextCall = 1;

// ---------------------------------------------------------------- worker

function startWorker() {
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = ({ data }) => {
    const call = calls.get(data.id);
    calls.delete(data.id);
    if (!call) return;
    if ('error' in data) {
      if (data.fatal) restartWorker();
      call.reject(new Error(data.error));
    } else {
      call.resolve(data.result);
    }
  };
}

function call(method, args, transfer = []) {
  return new Promise((resolve, reject) => {
    const id = nextCall++;
    calls.set(id, { resolve, reject });
    worker.postMessage({ id, method, args }, transfer);
  });
}

let workerReady = Promise.resolve();

// ---------------------------------------------------------------- early fetches

// A first visit on a slow network waits for the wasm, then for the lists,
// each a round trip or more: so they are all asked for now, while the
// worker starts (docs/performance.md, "Web verifier"). The wasm is fetched
// here, not in the worker, so that the page's <link rel="preload"> is the
// same request; the worker is handed the compiled module.
const wasmModule = compileWasm(new URL('./pkg/sealpass_web_bg.wasm', import.meta.url));

async function compileWasm(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  // compileStreaming compiles while the bytes arrive; it needs the server
  // to say application/wasm, which not every static server does.
  if (response.headers.get('content-type')?.startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

/** Fetches started before the worker could take them, by URL; each used once. */
const early = new Map();

function fetchEarly(url, bytes) {
  bytes.catch(() => {}); // a failure is reported when the sync takes it
  early.set(url, bytes);
}

/** The bytes at `url`: the early fetch of it if there is one left, else a new one. */
async function fetchOnce(url, max) {
  const bytes = early.get(url);
  early.delete(url);
  return (bytes && await bytes) || fetchBytes(url, max);
}

/**
 * The start's sync asks for the trust list (and, on a phone with no roots
 * yet, roots.cbor) at once; status lists follow once the trust list names
 * them, all together.
 */
function fetchListsEarly() {
  if (navigator.onLine === false) return;
  const trustUrl = new URL('trust-list.cbor', syncBase()).href;
  fetchEarly(trustUrl, fetchBytes(trustUrl, 1 << 20));
  // Resolves to nothing when roots are held: then nothing is fetched.
  const rootsUrl = new URL('roots.cbor', location.href).href;
  fetchEarly(rootsUrl, store.get('roots').then((held) => (held ? null : fetchBytes(rootsUrl, 1 << 20))));
}

/** After a trap in the wasm: a new worker, loaded again from storage. */
function restartWorker() {
  worker.terminate();
  for (const pending of calls.values()) pending.reject(new Error('worker restarted'));
  calls = new Map();
  startWorker();
  workerReady = loadStoredLists().catch((error) => console.warn('worker not restarted', error));
}

/** Start the checkpoint in the worker from what the phone stored. */
async function loadStoredLists() {
  profiles = await call('start', { module: await wasmModule });
  const policy = prefs.get('policy');
  if (policy) await call('setPolicy', { name: policy });
  const seen = await store.get('newest-seen');
  if (seen) await call('setNewestTimeSeen', { seconds: seen });
  const roots = await store.get('roots');
  if (roots) await call('pinRoots', { bytes: roots });
  // Never back below the highest trust-list sequence accepted, even when
  // the stored list is damaged and the phone starts again from the roots.
  const highest = await store.get('highest-sequence');
  if (highest) await call('setHighestSequenceAccepted', { sequence: highest });
  const trust = await store.get('trust-list');
  if (trust) {
    // Restored against the pinned roots (docs/web-verifier.md, "Trust on the phone").
    const loaded = await call('loadTrustList', { bytes: trust });
    if (!loaded.ok) console.warn('stored trust list not used', loaded.code, loaded.reason);
    if (loaded.ok) {
      await storeTrust();
      for (const key of await store.keys()) {
        if (!String(key).startsWith('status/')) continue;
        const issuer = String(key).slice('status/'.length);
        await call('loadStatusList', { issuer, bytes: await store.get(key), now: Date.now() });
      }
    }
  }
}

// ---------------------------------------------------------------- lists

function syncBase() {
  return prefs.get('base-url') || new URL('/', location.href).href;
}

/** First load: pin the root set served next to the app (docs/web-verifier.md). */
async function pinRootsIfNeeded() {
  if (await store.get('roots')) return;
  let bytes;
  try {
    bytes = await fetchOnce(new URL('roots.cbor', location.href).href, 1 << 20);
  } catch {
    // Offline at first load: pinned on the next load with a network.
    return;
  }
  try {
    const pinned = await call('pinRoots', { bytes });
    if (pinned.ok) await store.put('roots', bytes);
  } catch (error) {
    console.warn('roots not pinned', error);
  }
}

/** The list server's clock, from the `Date` of its latest answer, and this phone's then. */
let serverClock = null;

async function fetchBytes(url, max) {
  const response = await fetch(url, { cache: 'no-store' });
  // Readable on the page's own origin (a cross-origin server would have to
  // expose it); lists are never answered from a cache (sw.js).
  const date = Date.parse(response.headers.get('date') || '');
  if (!Number.isNaN(date)) serverClock = { device: Date.now() / 1000, server: date / 1000 };
  if (!response.ok) {
    const error = new Error(`${url}: HTTP ${response.status}`);
    error.notFound = response.status === 404;
    throw error;
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length > max) throw new Error(`${url}: more than ${max} bytes`);
  return bytes;
}

let syncing = false;

/** Fetch, check (in the worker, by the core's rules) and store the lists. */
async function sync() {
  if (syncing) return;
  syncing = true;
  $('sync').disabled = true;
  $('sync-result').textContent = t.syncing;
  const reports = [];
  try {
    await pinRootsIfNeeded();
    const base = syncBase();
    const trustUrl = new URL('trust-list.cbor', base).href;
    let report;
    try {
      const bytes = await fetchOnce(trustUrl, 1 << 20);
      report = await call('offerTrustList', { location: trustUrl, bytes, now: Date.now() });
    } catch (error) {
      report = await call('unavailable', { issuer: null, location: trustUrl, notFound: !!error.notFound, reason: error.message });
    }
    reports.push(report);
    if (report.result === 'bootstrapped' || report.result === 'replaced') {
      await store.put('trust-list', await call('trustListBytes'));
      await storeTrust();
    }
    const status = await call('status', { now: Date.now(), nextSyncIn: nextSyncIn() });
    if (status.trust_list && status.trust_list.freshness !== 'expired') {
      // Every issuer's list at once; each offered as it is checked, in order.
      const sources = (await call('statusListSources'))
        .map((source) => ({ ...source, location: source.url || new URL(source.path, base).href }));
      for (const { location } of sources) fetchEarly(location, fetchBytes(location, 16 << 20));
      for (const { issuer, location } of sources) {
        let statusReport;
        try {
          const bytes = await fetchOnce(location, 16 << 20);
          statusReport = await call('offerStatusList', { issuer, location, bytes, now: Date.now() });
        } catch (error) {
          statusReport = await call('unavailable', { issuer, location, notFound: !!error.notFound, reason: error.message });
        }
        reports.push(statusReport);
      }
    }
    await storeStatusLists();
    if (reports.every((r) => r.result !== 'unavailable' && r.result !== 'refused')) {
      await store.put('last-sync', Date.now());
    }
    await rememberTime();
    await showClock();
  } finally {
    syncing = false;
    $('sync').disabled = false;
    showSyncReports(reports);
    await showLists();
  }
}

/**
 * After the trust list held is stored: the pinned roots (which follow a
 * rotation that list made) and the highest sequence accepted.
 */
async function storeTrust() {
  const roots = await call('pinnedRootsBytes');
  if (roots.length) await store.put('roots', roots);
  const highest = await call('highestSequenceAccepted');
  if (highest > ((await store.get('highest-sequence')) || 0)) await store.put('highest-sequence', highest);
}

/** Keep exactly the status lists the worker holds after a sync. */
async function storeStatusLists() {
  const sources = await call('statusListSources');
  const wanted = new Set(sources.map((s) => statusKey(s.issuer)));
  for (const source of sources) {
    const bytes = await call('statusListBytes', { issuer: source.issuer });
    if (bytes.length) await store.put(statusKey(source.issuer), bytes);
  }
  for (const key of await store.keys()) {
    if (String(key).startsWith('status/') && !wanted.has(key)) await store.delete(key);
  }
}

async function rememberTime() {
  const seen = await call('seeTime', { now: Date.now() });
  if (seen) await store.put('newest-seen', seen);
}

function showSyncReports(reports) {
  $('sync-result').textContent = reports.map((r) => {
    const what = r.list === 'trust_list' ? t.trust_list : t.status_list(r.issuer);
    const result = t.sync_results[r.result] || r.result;
    return `${what}: ${result}${r.reason ? ` (${r.reason})` : ''}`;
  }).join('\n');
}

/**
 * Warn when this phone's clock is off from the list server's: a live code
 * is judged by its age on this clock (sealpass-checkpoint's ClockComparison).
 */
async function showClock() {
  if (!serverClock) return;
  const compared = await call('compareClock', serverClock);
  globalThis.sealpassClock = compared; // for the end-to-end test
  const line = $('clock-off');
  line.hidden = !compared.off;
  const by = Math.abs(compared.offset_seconds);
  line.textContent = compared.off ? t.clock_off(compared.offset_seconds > 0, by < 120 ? t.seconds(by) : duration(t, by)) : '';
}

const when = (seconds) => new Date(seconds * 1000).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB');

// Syncs at start and every SYNC_EVERY_MS while the page is open: the status
// screen warns of a list that runs out before the next one.
const SYNC_EVERY_MS = 6 * 3600_000;
let nextSyncAt = null;
const nextSyncIn = () => Math.max(0, ((nextSyncAt ?? Date.now() + SYNC_EVERY_MS) - Date.now()) / 1000);

async function showLists() {
  const now = Date.now();
  const status = await call('status', { now, nextSyncIn: nextSyncIn() });
  globalThis.sealpassStatus = status; // for the end-to-end test
  const freshness = $('freshness');
  freshness.className = 'freshness';
  const list = status.trust_list;
  if (status.code === 'clock_behind') {
    freshness.textContent = t.clock;
    freshness.classList.add('bad');
  } else if (!list) {
    freshness.textContent = t.no_list;
    freshness.classList.add('bad');
  } else if (list.freshness === 'expired') {
    freshness.textContent = t.expired;
    freshness.classList.add('bad');
  } else if (list.freshness === 'expires_soon') {
    freshness.textContent = t.expires_soon(duration(t, list.expires_in_seconds));
    freshness.classList.add('warn');
  } else {
    freshness.textContent = t.fresh(duration(t, list.age_seconds), duration(t, list.expires_in_seconds));
  }
  // Not ready although the trust list is fine: say why, in red.
  const readiness = $('readiness');
  const unchecked = status.status_lists.filter((s) => s.state !== 'current').map((s) => s.issuer);
  readiness.hidden = status.code !== 'revocation_not_checked';
  readiness.textContent = readiness.hidden ? '' : t.not_ready_revocation(unchecked.join(', '));
  // Lists that run out before the next planned sync, in yellow.
  const sentence = (text) => text.charAt(0).toUpperCase() + text.slice(1);
  const warnings = lang === 'en' ? status.warnings.map(sentence) : [
    ...(list && list.freshness !== 'expired' && list.expires_before_next_sync
      ? [t.trust_expires_before_sync(duration(t, list.expires_in_seconds))] : []),
    ...status.status_lists
      .filter((s) => s.state === 'current' && s.expires_before_next_sync)
      .map((s) => t.status_expires_before_sync(s.issuer, duration(t, s.expires_at - now / 1000))),
  ];
  $('warnings').replaceChildren(...warnings.map((warning) => {
    const li = document.createElement('li');
    li.textContent = warning;
    return li;
  }));
  const lines = [];
  if (list) lines.push(t.trust_line(list.sequence, when(list.issued_at), when(list.expires_at)));
  for (const s of status.status_lists) {
    lines.push(t.status_line(s.issuer, s.state, s.issued_at && when(s.issued_at), s.expires_at && when(s.expires_at)));
  }
  const lastSync = await store.get('last-sync');
  lines.push(lastSync ? t.last_sync(duration(t, (now - lastSync) / 1000)) : t.never_synced);
  $('list-details').replaceChildren(...lines.map((line) => {
    const li = document.createElement('li');
    li.textContent = line;
    return li;
  }));
  const details = [
    [t.roots, status.pinned_roots ? t.roots_value(status.pinned_roots) : t.roots_missing],
    [t.newest_seen, status.newest_time_seen ? when(status.newest_time_seen) : '—'],
    [t.highest_sequence, status.highest_sequence_accepted ? String(status.highest_sequence_accepted) : '—'],
    [t.decode_time, stats.samples ? t.decode_value(stats) : '—'],
  ];
  $('details').replaceChildren(...details.flatMap(([term, value]) => {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.textContent = value;
    return [dt, dd];
  }));
}

// ---------------------------------------------------------------- camera

const video = $('video');
const stats = { frames: 0, samples: 0, medianMs: 0, p95Ms: 0, width: 0, height: 0, recent: [] };
globalThis.sealpassScanStats = stats; // read by the end-to-end test (docs/performance.md)
let scanning = false;
let ignore = { text: null, until: 0 };

async function startCamera() {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: 'environment', width: { ideal: 1280 }, height: { ideal: 720 } },
    });
    video.srcObject = stream;
    await video.play();
    $('start-camera').hidden = true;
    $('hint').textContent = t.hint;
    scanning = true;
    pump();
  } catch (error) {
    $('start-camera').hidden = false;
    $('hint').textContent = error.name === 'NotAllowedError' ? t.camera_needs_tap : t.no_camera;
  }
}

/** The centre square of the picture (what the guide shows), at most 720 pixels a side. */
function cropOf(width, height) {
  const side = Math.min(width, height);
  const size = Math.min(side, 720);
  return { sx: (width - side) / 2, sy: (height - side) / 2, side, size };
}

async function pump() {
  if (!scanning) return;
  if (!$('verdict').hidden || video.readyState < 2 || !video.videoWidth) {
    setTimeout(pump, 100);
    return;
  }
  try {
    const { sx, sy, side, size } = cropOf(video.videoWidth, video.videoHeight);
    await workerReady;
    const bitmap = await createImageBitmap(video, sx, sy, side, side, { resizeWidth: size, resizeHeight: size });
    const result = await call('scan', { bitmap, now: Date.now() }, [bitmap]);
    record(result);
    const fresh = result.found.filter((f) => f.text !== ignore.text || Date.now() > ignore.until);
    if (fresh.length && $('verdict').hidden) {
      ignore = { text: fresh[0].text, until: Infinity };
      showVerdict(fresh[0].verdict);
    }
  } catch (error) {
    console.warn('frame not read', error);
  }
  setTimeout(pump, 20);
}

function record({ decodeMs, width, height }) {
  stats.frames += 1;
  stats.width = width;
  stats.height = height;
  stats.recent.push(decodeMs);
  if (stats.recent.length > 200) stats.recent.shift();
  const sorted = [...stats.recent].sort((a, b) => a - b);
  stats.samples = sorted.length;
  stats.medianMs = sorted[Math.floor(sorted.length / 2)];
  stats.p95Ms = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))];
}

// ---------------------------------------------------------------- verdict

let audio;
let dismissTimer;

function beep(kind) {
  try {
    audio = audio || new AudioContext();
    const tones = { valid: [[1046, 0, 0.18]], not_valid: [[330, 0, 0.22], [330, 0.3, 0.22]], undecided: [[523, 0, 0.35]] }[kind];
    for (const [frequency, start, length] of tones) {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.frequency.value = frequency;
      oscillator.type = kind === 'valid' ? 'sine' : 'square';
      gain.gain.setValueAtTime(0.25, audio.currentTime + start);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + start + length);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(audio.currentTime + start);
      oscillator.stop(audio.currentTime + start + length);
    }
  } catch {
    // No sound on this device: the colour, shape and words still tell.
  }
}

/** Codes that mean "revocation could not be checked": amber, and sync. */
const UNCHECKED = new Set(['revocation_not_checked', 'status_list_expired']);

function showVerdict(verdict) {
  const screen = $('verdict');
  const kind = verdict.verdict; // valid, not_valid, undecided
  const unchecked = !verdict.valid && UNCHECKED.has(verdict.code);
  screen.className = `verdict ${kind}${verdict.colour === 'yellow' ? ' yellow' : ''}${unchecked ? ' unchecked' : ''}`;
  screen.dataset.code = verdict.code;
  $('verdict-sync').hidden = !unchecked;
  const word = t[kind];
  $('verdict-word').textContent = kind === 'valid' && verdict.colour !== 'green'
    ? `${word} · ${t[verdict.colour] || verdict.colour}` : word;
  $('verdict-name').textContent = verdict.masked_name || '';
  $('verdict-id').textContent = verdict.masked_id || '';
  const health = healthLines(t, verdict);
  showKeepingDates($('verdict-vaccine'), health.vaccine);
  $('verdict-test').textContent = health.test;
  $('verdict-checked').textContent = verdict.valid ? health.checked : '';
  // How the pass is tied to the person (live codes, issue 18), and a live
  // code this phone accepted before: a warning to look, not a refusal.
  const shortly = (seconds) => (seconds < 120 ? t.seconds(seconds) : duration(t, seconds));
  $('verdict-holder').textContent = !verdict.valid ? ''
    : verdict.holder_bound ? t.holder_live(shortly(verdict.live_code_age_seconds)) : t.holder_not_bound;
  const seen = verdict.valid ? verdict.already_scanned_seconds_ago : null;
  $('verdict-seen').textContent = seen == null ? '' : t.already_scanned(shortly(seen));
  const time = verdict.valid ? t.valid_for(duration(t, verdict.valid_for_seconds)) : '';
  $('verdict-time').textContent = time;
  const reason = verdict.valid ? '' : reasonText(lang, verdict);
  $('verdict-reason').textContent = reason;
  // What to do, for a pass whose revocation could not be checked.
  $('verdict-action').textContent = unchecked ? t.unchecked_action : '';
  $('verdict-detail').textContent = !verdict.valid && reason !== verdict.reason ? verdict.reason : '';
  screen.hidden = false;
  $('announce').textContent = verdict.valid ? t.announce_valid(verdict, time)
    : t.announce_refused(word, unchecked ? `${reason}. ${t.unchecked_action}` : reason);
  $('next').focus({ preventScroll: true });
  beep(kind);
  // Browsers vibrate only after the first tap on the page.
  if (navigator.vibrate && navigator.userActivation?.hasBeenActive !== false) {
    navigator.vibrate(verdict.valid ? 120 : [250, 120, 250]);
  }
  clearTimeout(dismissTimer);
  dismissTimer = setTimeout(dismiss, verdict.valid ? 4000 : 6000);
  globalThis.sealpassLastVerdict = verdict; // for the end-to-end test
  rememberTime();
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

function dismiss() {
  clearTimeout(dismissTimer);
  if ($('verdict').hidden) return;
  $('verdict').hidden = true;
  // The same pass still held up is not decided again for a moment.
  ignore = { text: ignore.text, until: Date.now() + 2500 };
}

// ---------------------------------------------------------------- page

function translate() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const element of document.querySelectorAll('[data-i18n]')) {
    element.textContent = t[element.dataset.i18n];
  }
  $('lang').textContent = t.lang_switch;
  $('lang').lang = lang === 'zh' ? 'en' : 'zh';
  const select = $('profile');
  const chosen = prefs.get('policy') || 'subway';
  select.replaceChildren(...profiles.map((name) => new Option(t.profiles[name] || name, name, false, name === chosen)));
}

function wire() {
  $('lang').addEventListener('click', async () => {
    lang = lang === 'zh' ? 'en' : 'zh';
    t = STRINGS[lang];
    prefs.set('lang', lang);
    translate();
    await showLists();
    await showClock();
  });
  $('profile').addEventListener('change', async (event) => {
    if (await call('setPolicy', { name: event.target.value })) prefs.set('policy', event.target.value);
  });
  $('sync').addEventListener('click', () => sync());
  $('start-camera').addEventListener('click', () => startCamera());
  $('verdict').addEventListener('click', dismiss);
  $('next').addEventListener('click', (event) => { event.stopPropagation(); dismiss(); });
  $('verdict-sync').addEventListener('click', (event) => { event.stopPropagation(); dismiss(); sync(); });
  $('reset-trust').addEventListener('click', () => resetTrust());
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') dismiss();
  });
  $('typed').addEventListener('submit', async (event) => {
    event.preventDefault();
    const verdict = await call('verifyText', { text: $('pass-text').value, now: Date.now() });
    ignore = { text: null, until: 0 };
    showVerdict(verdict);
  });
  $('base-url').value = syncBase();
  $('settings').addEventListener('submit', (event) => {
    event.preventDefault();
    prefs.set('base-url', new URL($('base-url').value, location.href).href);
    sync();
  });
}

/**
 * The explicit re-pin (docs/web-verifier.md): forget the pinned roots,
 * every list and the highest sequence accepted, then load the page again,
 * which pins roots.cbor from the server and accepts any sequence. Only
 * after a confirmation: it undoes the phone's protection against rollback.
 */
async function resetTrust() {
  if (!confirm(t.reset_confirm)) return;
  for (const key of await store.keys()) {
    const name = String(key);
    if (name === 'roots' || name === 'trust-list' || name === 'highest-sequence' || name === 'last-sync'
      || name.startsWith('status/')) {
      await store.delete(key);
    }
  }
  location.reload();
}

async function main() {
  fetchListsEarly();
  startWorker();
  await loadStoredLists();
  translate();
  wire();
  await rememberTime();
  await showLists();
  // A phone with no trust list syncs before it scans, so that the first
  // pass is decided rather than answered "no trust list".
  const held = (await call('status', { now: Date.now() })).trust_list;
  if (!held && navigator.onLine !== false) await sync();
  startCamera();
  if (held && navigator.onLine !== false) await sync();
  nextSyncAt = Date.now() + SYNC_EVERY_MS;
  setInterval(() => showLists(), 60_000);
  setInterval(() => {
    nextSyncAt = Date.now() + SYNC_EVERY_MS;
    if (navigator.onLine !== false) sync();
  }, SYNC_EVERY_MS);
  await showLists();
  document.body.dataset.ready = 'true';
}

// The offline copy once the page can scan (or has failed to start): its
// download never competes with the first visit's own, and it revalidates
// what the page has just fetched rather than fetching it again (sw.js).
main().finally(() => {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('sw.js').catch((error) => console.warn('no offline copy', error));
  }
});
