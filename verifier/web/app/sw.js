// The service worker keeps the app on the phone: every file of the app
// shell and the wasm is cached at install and served from the cache, so
// the page opens and decides with no network at all. The lists are not
// cached here: the page fetches them on a sync and keeps them itself.
// `cargo xtask web` replaces the version with a hash of the built files, so
// a new build installs a new cache and drops the old one.

const VERSION = 'sealpass-checkpoint-__BUILD__';
const SHELL = [
  './',
  'index.html',
  'style.css',
  'app.js',
  'i18n.js',
  'store.js',
  'worker.js',
  'manifest.webmanifest',
  'icon.svg',
  'pkg/sealpass_web.js',
  'pkg/sealpass_web_bg.wasm',
];
const SHELL_URLS = new Set(SHELL.map((path) => new URL(path, self.registration.scope).href));

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(VERSION)
      // no-cache: asked again of the server, which answers "not modified"
      // for what the page has just fetched (ETag), so a first visit does
      // not download the app twice; a changed file comes whole.
      .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: 'no-cache' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      // Only this app's older caches: the issuer serves the verifier at
      // /verify/ on the citizen page's origin, whose offline copy
      // (sealpass-citizen-*) must survive a verifier update.
      .then((names) => Promise.all(names
        .filter((name) => name.startsWith('sealpass-checkpoint-') && name !== VERSION)
        .map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  url.search = '';
  const isShell = SHELL_URLS.has(url.href);
  const isPage = request.mode === 'navigate' && url.href.startsWith(self.registration.scope)
    && !url.pathname.endsWith('.cbor');
  if (!isShell && !isPage) return; // lists and roots: always the network
  const key = isPage ? new URL('./', self.registration.scope).href : url.href;
  event.respondWith(
    caches.open(VERSION)
      .then((cache) => cache.match(key))
      .then((cached) => cached || fetch(request)),
  );
});
