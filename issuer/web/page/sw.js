// The citizen page's service worker: the page's own files are fetched from
// the network when it answers (and the copy kept up to date), and from the
// copy when it does not or says it is busy, so the page opens with no
// network and shows the
// pass saved on the phone. It touches nothing else: not the API (the page
// keeps the pass itself), not /verify/ (the web verifier has its own).

const VERSION = 'sealpass-citizen-v2';
const SHELL = ['/', '/errors.js', '/app.js', '/i18n.js', '/holder.js', '/device.js', '/live.js', '/qr.js', '/style.css', '/vendor/qrcode.mjs', '/manifest.webmanifest', '/icon.svg'];
/** How long to wait for the network before using the copy. */
const NETWORK_TIMEOUT_MS = 3000;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(VERSION)
      .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names
        .filter((name) => name.startsWith('sealpass-citizen-') && name !== VERSION)
        .map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

async function networkFirst(request) {
  const cache = await caches.open(VERSION);
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), NETWORK_TIMEOUT_MS)),
    ]);
    if (response.ok) {
      await cache.put(request, response.clone());
      return response;
    }
    // Busy (503) or another failure: the copy, if there is one, is better.
    return (await cache.match(request, { ignoreSearch: true })) || response;
  } catch (error) {
    const copy = await cache.match(request, { ignoreSearch: true });
    if (copy) return copy;
    throw error;
  }
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== location.origin || !SHELL.includes(url.pathname)) {
    return;
  }
  event.respondWith(networkFirst(event.request));
});
