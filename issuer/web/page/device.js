// This phone's device key and its binding to the citizen's pass
// (docs/public-api.md, "The citizen page", and "Device binding" in the
// issuer's binding module): a non-extractable WebCrypto key made once,
// Ed25519 where the browser has it, else ECDSA P-256, kept in IndexedDB
// (a CryptoKey is structured-cloneable; its private half never leaves the
// browser), and the binding message signed over a server's challenge.

const DB = 'sealpass-device';
const STORE = 'keys';
const ID = 'device';
const BINDING_CONTEXT = 'sealpass device binding v1\0';
/** IndexedDB answers in milliseconds; longer, the page goes on without the key for now. */
const STORAGE_TIMEOUT_MS = 5000;

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function timeout(ms) {
  return new Promise((_, reject) => {
    setTimeout(() => reject(new DOMException('IndexedDB did not answer', 'TimeoutError')), ms);
  });
}

async function withStore(mode, fn) {
  const db = await Promise.race([openDb(), timeout(STORAGE_TIMEOUT_MS)]);
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export function base64url(bytes) {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64url(text) {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** A new key pair, non-extractable: Ed25519 if this browser signs with it, else P-256. */
async function generate() {
  try {
    const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    // Some engines make the key but cannot sign with it: try once.
    await crypto.subtle.sign({ name: 'Ed25519' }, pair.privateKey, new Uint8Array(1));
    return { type: 'Ed25519', pair };
  } catch {
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    return { type: 'P-256', pair };
  }
}

/** The key as a pass carries it (`holder_key`): Ed25519's 32 bytes, P-256 compressed. */
function passForm(type, raw) {
  if (type === 'Ed25519') return raw;
  const compressed = new Uint8Array(33);
  compressed[0] = 0x02 | (raw[64] & 1);
  compressed.set(raw.subarray(1, 33), 1);
  return compressed;
}

/**
 * This phone's device key: `{ type, privateKey, publicRaw, passKey }`,
 * made and stored on first use (or when site data was cleared, losing the
 * old one). `publicRaw` is WebCrypto's raw export (32 bytes, or 65 for
 * P-256); `passKey` is base64url of the form a bound pass carries.
 */
export async function deviceKey() {
  let held = null;
  try {
    held = await Promise.race([withStore('readonly', (store) => store.get(ID)), timeout(STORAGE_TIMEOUT_MS)]);
  } catch (error) {
    // Slow: the key may be there; making another would bind a new phone.
    if (error.name === 'TimeoutError') throw error;
    // No IndexedDB (some private modes): a key for this visit only.
  }
  if (!held || !held.privateKey || !held.publicKey) {
    const { type, pair } = await generate();
    held = { type, privateKey: pair.privateKey, publicKey: pair.publicKey, created_at: Math.floor(Date.now() / 1000) };
    try {
      await withStore('readwrite', (store) => store.put(held, ID));
    } catch { /* kept for this visit only */ }
    // Ask the browser not to clear it under storage pressure.
    navigator.storage?.persist?.().catch(() => {});
  }
  const publicRaw = new Uint8Array(await crypto.subtle.exportKey('raw', held.publicKey));
  return {
    type: held.type,
    privateKey: held.privateKey,
    publicRaw,
    passKey: base64url(passForm(held.type, publicRaw)),
  };
}

/** A raw 64-byte signature of `bytes` with `key` (P-256: over their SHA-256, `r || s`). */
export async function sign(key, bytes) {
  const algorithm = key.type === 'Ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', hash: 'SHA-256' };
  return new Uint8Array(await crypto.subtle.sign(algorithm, key.privateKey, bytes));
}

/** The binding message (issuer/src/read/public/binding/proof.rs, docs/public-api.md). */
export function bindingMessage(challenge, subject, type, publicKey) {
  const context = new TextEncoder().encode(BINDING_CONTEXT);
  const subjectBytes = new TextEncoder().encode(subject);
  const out = [...context, challenge.length, ...challenge, subjectBytes.length, ...subjectBytes,
    type === 'Ed25519' ? 1 : 2, publicKey.length, ...publicKey];
  return Uint8Array.from(out);
}

/** Why a binding did not happen; `code` is the API's error code (or `network`). */
export class BindingError extends Error {
  constructor(code, message, retryAfter) {
    super(message);
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

async function refusal(response) {
  let body = {};
  try { body = await response.json(); } catch { /* not JSON */ }
  const retry = Number(response.headers.get('Retry-After')) || body.retry_after_seconds || 0;
  return new BindingError(body.error || `http_${response.status}`, body.message || response.statusText, retry);
}

/**
 * Bind `key` to the citizen logged in with `token`: a challenge, the
 * signed binding message, `PUT /api/v1/device`. Resolves to the API's
 * answer (`{bound, changed, replaced}`); a BindingError otherwise
 * (`binding_disabled`, `too_many_devices`, `network`, ...).
 */
export async function bind(key, token) {
  const auth = { Authorization: `Bearer ${token}` };
  for (let attempt = 0; ; attempt += 1) {
    let response;
    try {
      response = await fetch('/api/v1/device/challenge', { method: 'POST', headers: auth, cache: 'no-store' });
    } catch {
      throw new BindingError('network', 'no network');
    }
    if (!response.ok) throw await refusal(response);
    const { challenge, subject } = await response.json();
    const raw = fromBase64url(challenge);
    const signature = await sign(key, bindingMessage(raw, subject, key.type, key.publicRaw));
    try {
      response = await fetch('/api/v1/device', {
        method: 'PUT',
        headers: { ...auth, 'Content-Type': 'application/json' },
        cache: 'no-store',
        body: JSON.stringify({
          challenge, key_type: key.type, public_key: base64url(key.publicRaw), signature: base64url(signature),
        }),
      });
    } catch {
      throw new BindingError('network', 'no network');
    }
    if (response.ok) return response.json();
    const error = await refusal(response);
    // A challenge that expired or was used meanwhile: once more, with a new one.
    if (attempt === 0 && (error.code === 'challenge_used' || error.code === 'challenge_expired')) continue;
    throw error;
  }
}
