// What the citizen page shows for the pass's holder binding (docs/
// public-api.md, "The citizen page"): a pass bound to this phone's key is
// shown as a live code re-signed every 10 s and whenever the page is shown
// again, with the screen kept awake; an unbound pass is shown as it is,
// while this phone binds its key when the issuer binds devices; a pass
// bound to another key is not shown at all (no checkpoint would accept it).
// Everything here works offline: the key and the pass are on the phone.

import { bind, deviceKey, sign } from '/device.js';
import { makeLiveCode, passBytes } from '/live.js';

/** Re-sign this often (docs/format.md §9: a checkpoint allows 60 s). */
export const RENEW_EVERY_MS = 10_000;
/** How long to wait for the signer to sign the bound pass after a binding. */
const BOUND_PASS_WAIT_MS = 60_000;
/** Ask again after a refusal that says binding is off, at the earliest. */
const OFF_RETRY_MS = 60 * 60 * 1000;
const BOUND_HERE = 'sealpass.bound-here';
const OFF_UNTIL = 'sealpass.binding-off-until';
/** The version of the pass a binding revoked, until the bound pass comes. */
const REVOKED = 'sealpass.revoked-by-binding';

let key = null; // this phone's device key, once loaded
let keyFailed = false; // no WebCrypto here: passes are shown as they are
let keyLoading = null; // the load in flight
let bytesFor = { text: null, bytes: null }; // the pass's COSE bytes, for its text
let code = null; // { text, t } of the live code shown
let renewTimer = null;
let wakeLock = null;
let binding = null; // the binding in flight
let note = null; // [key, ...args]: why the pass is not a live code

/**
 * This phone's key, made once; null where WebCrypto cannot make one, or
 * while IndexedDB does not answer (asked again at the next call).
 */
export async function loadKey() {
  if (key || keyFailed) return key;
  keyLoading ||= deviceKey().then((loaded) => {
    key = loaded;
  }, (error) => {
    keyFailed = error.name !== 'TimeoutError';
  }).finally(() => {
    keyLoading = null;
  });
  await keyLoading;
  return key;
}

/**
 * How the pass `p` relates to this phone: 'plain' (bound to no phone),
 * 'mine', 'other', or 'pending' (bound, and this phone's key not loaded yet).
 */
export function holderOf(p) {
  if (!p || !p.holder_bound) return 'plain';
  if (!key && !keyFailed) return 'pending';
  return key && p.holder_key === key.passKey ? 'mine' : 'other';
}

/** The live code shown now, if any: `{ text, t }`. */
export function currentCode() {
  return code;
}

/**
 * Whether `p` was revoked by this phone's binding (docs/public-api.md,
 * "Device binding": the page does not show it as a plain pass any more).
 */
export function revokedByBinding(p) {
  return !!p && localStorage.getItem(REVOKED) === p.version && holderOf(p) !== 'mine';
}

/** Why the pass is not shown as a live code, as `[i18n key, ...args]`, or null. */
export function holderNote() {
  return note;
}

/** A new live code of `p` (bound to this phone) for now, or null. */
export async function renew(p) {
  if (holderOf(p) !== 'mine') {
    code = null;
    return null;
  }
  if (bytesFor.text !== p.pass) bytesFor = { text: p.pass, bytes: await passBytes(p.pass) };
  code = { ...(await makeLiveCode(bytesFor.bytes, key.type, (input) => sign(key, input))), pass: p.pass };
  return code;
}

/** Call `onTick` every RENEW_EVERY_MS while a live code is shown; keep the screen on. */
export function startRenewing(onTick) {
  if (renewTimer) return;
  renewTimer = setInterval(onTick, RENEW_EVERY_MS);
  keepAwake();
}

export function stopRenewing() {
  clearInterval(renewTimer);
  renewTimer = null;
  if (wakeLock) wakeLock.release().catch(() => {});
  wakeLock = null;
}

/** Ask for the screen to stay on (released by the browser when hidden; asked again when shown). */
export async function keepAwake() {
  if (!renewTimer || document.visibilityState !== 'visible' || !navigator.wakeLock) return;
  if (wakeLock && !wakeLock.released) return;
  try {
    wakeLock = await navigator.wakeLock.request('screen');
  } catch {
    wakeLock = null; // not allowed here (battery saver, no user gesture): the code still works
  }
}

export function forgetBinding() {
  localStorage.removeItem(BOUND_HERE);
  localStorage.removeItem(REVOKED);
  note = null;
}

/**
 * Bind this phone when the pass `p` asks for it and the issuer binds
 * devices (`enabled`: login-options' `device_binding`): the pass is not
 * bound, or it is bound to a key this phone does not have and this login
 * never bound here (a new phone, or site data cleared). A pass moved to
 * another phone since is left there unless `force` (the citizen's
 * button). `fetchPass()` downloads the pass again; the promise resolves
 * once the bound pass has come, or the binding stopped with a note.
 */
export async function maybeBind(p, token, fetchPass, { enabled = false, force = false } = {}) {
  if (!p || !token || binding || !('holder_bound' in p)) return;
  if (enabled) await loadKey();
  const holder = holderOf(p);
  if (!enabled || Date.now() < Number(localStorage.getItem(OFF_UNTIL) || 0)) {
    // Binding off: an unbound pass is shown as it always was.
    note = holder === 'other' ? ['bound_elsewhere_off'] : null;
    return;
  }
  if (!key) {
    note = holder === 'plain' ? ['no_device_key'] : ['bound_elsewhere'];
    return;
  }
  if (holder === 'mine') {
    localStorage.setItem(BOUND_HERE, p.holder_key);
    localStorage.removeItem(REVOKED);
    note = null;
    return;
  }
  if (holder === 'other' && localStorage.getItem(BOUND_HERE) && !force) {
    note = ['moved_away'];
    return;
  }
  binding = (async () => {
    note = ['binding'];
    try {
      const answer = await bind(key, token);
      // The binding revoked the pass held: it is not shown as a plain pass any more.
      if (answer.changed && holder === 'plain') localStorage.setItem(REVOKED, p.version);
    } catch (error) {
      if (error.code === 'binding_disabled') {
        localStorage.setItem(OFF_UNTIL, String(Date.now() + OFF_RETRY_MS));
        note = holder === 'plain' ? null : ['bound_elsewhere_off'];
      } else if (error.code === 'too_many_devices') {
        note = ['too_many_devices', Math.max(1, Math.ceil((error.retryAfter || 3600) / 3600))];
      } else if (error.code === 'network') {
        note = holder === 'plain' ? null : ['bound_elsewhere'];
      } else {
        note = ['binding_failed', error.code];
      }
      return;
    }
    localStorage.removeItem(OFF_UNTIL);
    localStorage.setItem(BOUND_HERE, key.passKey);
    note = ['binding_wait'];
    const until = Date.now() + BOUND_PASS_WAIT_MS;
    for (let wait = 1000; Date.now() < until; wait = Math.min(wait * 1.5, 5000)) {
      const fresh = await fetchPass();
      if (fresh && holderOf(fresh) === 'mine') {
        localStorage.removeItem(REVOKED);
        note = null;
        return;
      }
      await new Promise((done) => setTimeout(done, wait));
    }
    note = ['binding_slow'];
  })();
  try {
    await binding;
  } finally {
    binding = null;
  }
}
