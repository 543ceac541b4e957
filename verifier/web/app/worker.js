// The checkpoint runs here, off the page's thread: sealpass-core and rxing
// compiled to wasm (sealpass-web). The page sends camera frames as
// ImageBitmaps and gets back verdicts, so the screen never stutters.

import init, { Checkpoint } from './pkg/sealpass_web.js';

// The page fetches and compiles the wasm (app.js, "early fetches") and
// hands the module over with `start`.
let ready;
let checkpoint;
let canvas;
let context;

const methods = {
  async start({ module }) {
    ready = ready || init({ module_or_path: module });
    await ready;
    checkpoint = new Checkpoint();
    return JSON.parse(Checkpoint.profiles());
  },
  setPolicy: ({ name }) => checkpoint.set_policy(name),
  pinRoots: ({ bytes }) => JSON.parse(checkpoint.pin_roots(bytes)),
  loadTrustList: ({ bytes }) => JSON.parse(checkpoint.load_trust_list(bytes)),
  loadStatusList: ({ issuer, bytes, now }) => JSON.parse(checkpoint.load_status_list(issuer, bytes, now)),
  offerTrustList: ({ location, bytes, now }) => JSON.parse(checkpoint.offer_trust_list(location, bytes, now)),
  offerStatusList: ({ issuer, location, bytes, now }) =>
    JSON.parse(checkpoint.offer_status_list(issuer, location, bytes, now)),
  unavailable: ({ issuer, location, notFound, reason }) =>
    JSON.parse(checkpoint.unavailable(issuer, location, notFound, reason)),
  trustListBytes: () => checkpoint.trust_list_bytes(),
  statusListBytes: ({ issuer }) => checkpoint.status_list_bytes(issuer),
  statusListSources: () => JSON.parse(checkpoint.status_list_sources()),
  pinnedRootsBytes: () => checkpoint.pinned_roots_bytes(),
  setHighestSequenceAccepted: ({ sequence }) => checkpoint.set_highest_sequence_accepted(sequence),
  highestSequenceAccepted: () => checkpoint.highest_sequence_accepted(),
  setNewestTimeSeen: ({ seconds }) => checkpoint.set_newest_time_seen(seconds),
  seeTime: ({ now }) => checkpoint.see_time(now),
  compareClock: ({ device, server }) => JSON.parse(Checkpoint.compare_clock(device, server)),
  status: ({ now, nextSyncIn }) => JSON.parse(checkpoint.status(now, nextSyncIn || 0)),
  verifyText: ({ text, now }) => JSON.parse(checkpoint.verify_text(text, now)),

  /** One camera frame: the verdicts of the codes in it, and how long reading took. */
  scan({ bitmap, now }) {
    const { width, height } = bitmap;
    if (!canvas || canvas.width !== width || canvas.height !== height) {
      canvas = new OffscreenCanvas(width, height);
      context = canvas.getContext('2d', { willReadFrequently: true });
    }
    context.drawImage(bitmap, 0, 0);
    bitmap.close();
    const pixels = context.getImageData(0, 0, width, height).data;
    const started = performance.now();
    const found = JSON.parse(checkpoint.scan_rgba(pixels, width, height, now));
    const decodeMs = performance.now() - started;
    return { found, decodeMs, width, height };
  },
};

self.onmessage = async ({ data: { id, method, args } }) => {
  try {
    const result = await methods[method](args || {});
    self.postMessage({ id, result });
  } catch (error) {
    // A trap in the wasm (a panic) leaves it unusable: the page starts a
    // new worker and loads the stored lists again.
    const fatal = error instanceof WebAssembly.RuntimeError;
    self.postMessage({ id, error: String(error), fatal });
  }
};
