// Live codes on the phone (docs/format.md, §1 and §9): the pass's
// COSE_Sign1 bytes from its `SP1:` text, the bytes the phone signs for a
// time `t`, and the `SP2:` text of the envelope, byte for byte as
// sealpass-core writes them (core/src/live/). The signature itself is
// made by device.js; this module has no key and no state.

const BASE45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
/** A pass's inflated size is capped as the verifiers cap it (MAX_INFLATED_LEN). */
const MAX_PASS_BYTES = 4096;
/** A text is at most this long (docs/format.md §1). */
const MAX_TEXT = 2048;
const CONTEXT = 'sealpass live code v1';
/** The order of P-256's group, and its half: a signature's `s` must be low. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const P256_HALF_N = P256_N >> 1n;

/** Why the page cannot make a live code from a text; `code` is stable. */
export class LiveCodeError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** RFC 9285 Base45 of `bytes`. */
export function base45Encode(bytes) {
  let out = '';
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    let n = bytes[i] * 256 + bytes[i + 1];
    const c = n % 45; n = (n - c) / 45;
    const d = n % 45; const e = (n - d) / 45;
    out += BASE45[c] + BASE45[d] + BASE45[e];
  }
  if (bytes.length % 2 === 1) {
    const n = bytes[bytes.length - 1];
    out += BASE45[n % 45] + BASE45[Math.floor(n / 45)];
  }
  return out;
}

/** The bytes of RFC 9285 Base45 `text`; a LiveCodeError if it is not Base45. */
export function base45Decode(text) {
  const values = [];
  for (const ch of text) {
    const v = BASE45.indexOf(ch);
    if (v < 0) throw new LiveCodeError('bad_base45', 'the pass text is not Base45');
    values.push(v);
  }
  if (values.length % 3 === 1) throw new LiveCodeError('bad_base45', 'the pass text has a stray character');
  const out = [];
  for (let i = 0; i < values.length; i += 3) {
    if (i + 2 < values.length) {
      const n = values[i] + values[i + 1] * 45 + values[i + 2] * 2025;
      if (n > 0xffff) throw new LiveCodeError('bad_base45', 'the pass text is not Base45');
      out.push(n >> 8, n & 0xff);
    } else {
      const n = values[i] + values[i + 1] * 45;
      if (n > 0xff) throw new LiveCodeError('bad_base45', 'the pass text is not Base45');
      out.push(n);
    }
  }
  return Uint8Array.from(out);
}

/** zlib (RFC 1950) inflated, at most `MAX_PASS_BYTES`. */
async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
  const reader = stream.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_PASS_BYTES) {
      await reader.cancel();
      throw new LiveCodeError('inflated_too_large', 'the pass is larger than a pass can be');
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) { out.set(chunk, at); at += chunk.length; }
  return out;
}

/**
 * The pass's COSE_Sign1 bytes as issued, from its `SP1:` text: Base45,
 * inflated when the issuer compressed it (first byte 0x78; a tagged
 * COSE_Sign1 begins 0xD2).
 */
export async function passBytes(text) {
  const trimmed = String(text).trim();
  if (!trimmed.startsWith('SP1:')) throw new LiveCodeError('not_a_pass', 'not a pass text (SP1:)');
  if (trimmed.length > MAX_TEXT) throw new LiveCodeError('text_too_long', 'the pass text is too long');
  const bytes = base45Decode(trimmed.slice(4));
  if (bytes[0] === 0x78) {
    try {
      return await inflate(bytes);
    } catch (error) {
      if (error instanceof LiveCodeError) throw error;
      throw new LiveCodeError('bad_zlib', 'the pass text is damaged (zlib)');
    }
  }
  if (bytes[0] !== 0xd2) throw new LiveCodeError('not_cose_sign1', 'the pass text does not hold a signed pass');
  return bytes;
}

/** The head of a CBOR item of major type `major` and argument `n`, shortest form. */
function head(major, n) {
  const m = major << 5;
  if (n < 24) return [m | n];
  if (n < 0x100) return [m | 24, n];
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff];
  if (n < 0x100000000) return [m | 26, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  const hi = Math.floor(n / 0x100000000);
  const lo = n >>> 0;
  return [m | 27, (hi >>> 24) & 0xff, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff,
    (lo >>> 24) & 0xff, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff];
}

function concat(parts) {
  const size = parts.reduce((sum, p) => sum + p.length, 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function checkTime(t) {
  if (!Number.isSafeInteger(t) || t < 0) throw new LiveCodeError('bad_time', 'the signing time is not whole seconds');
}

/**
 * The bytes the phone signs for a live code of `pass` (COSE bytes) at `t`
 * (Unix seconds): CBOR `["sealpass live code v1", SHA-256(pass), t]`.
 */
export async function signingInput(pass, t) {
  checkTime(t);
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', pass));
  const context = new TextEncoder().encode(CONTEXT);
  return concat([
    Uint8Array.from(head(4, 3)),
    Uint8Array.from(head(3, context.length)), context,
    Uint8Array.from(head(2, 32)), hash,
    Uint8Array.from(head(0, t)),
  ]);
}

function toBigInt(bytes) {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

function fromBigInt(n) {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i -= 1) { out[i] = Number(n & 0xffn); n >>= 8n; }
  return out;
}

/**
 * A P-256 `r || s` with `s` in the low half of the group order, as a
 * checkpoint requires (docs/format.md §9: one code, one text). WebCrypto
 * gives either half.
 */
export function lowS(signature) {
  const s = toBigInt(signature.subarray(32));
  if (s <= P256_HALF_N) return signature;
  const out = new Uint8Array(64);
  out.set(signature.subarray(0, 32));
  out.set(fromBigInt(P256_N - s), 32);
  return out;
}

/** The `SP2:` text of the envelope `[pass, t, signature]`. */
export function liveCodeText(pass, t, signature) {
  checkTime(t);
  if (signature.length !== 64) throw new LiveCodeError('bad_signature_length', 'a device signature is 64 bytes');
  const envelope = concat([
    Uint8Array.from(head(4, 3)),
    Uint8Array.from(head(2, pass.length)), pass,
    Uint8Array.from(head(0, t)),
    Uint8Array.from(head(2, 64)), signature,
  ]);
  return `SP2:${base45Encode(envelope)}`;
}

/**
 * A live code of `pass` (COSE bytes) signed now by `sign(bytes)` (a
 * device's raw 64-byte signature) with a key of `keyType` ('Ed25519' or
 * 'P-256'): `{ text, t }`.
 */
export async function makeLiveCode(pass, keyType, sign, t = Math.floor(Date.now() / 1000)) {
  const raw = new Uint8Array(await sign(await signingInput(pass, t)));
  const signature = keyType === 'P-256' ? lowS(raw) : raw;
  return { text: liveCodeText(pass, t, signature), t };
}
