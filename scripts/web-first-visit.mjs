// The web verifier's first visit, measured in Debian's Chromium
// (docs/performance.md, "Web verifier"): run by scripts/web-first-visit,
// which starts the demo that serves the app.
//
//   node scripts/web-first-visit.mjs URL RUNS
//
// URL is the app (…/verify/). Each run is a new browser with an empty
// profile, under one of three conditions (Chrome DevTools' presets, with
// the CPU slowed 4x as for a cheap phone), and reads:
// - ready: from the start of the navigation to the page saying it can
//   scan (body[data-ready="true"], set at the end of app.js's main());
// - bytes until ready, and for the whole visit (until the service worker
//   has its offline copy and the network is quiet), counted by a TCP proxy
//   between Chromium and the server: every byte each way, headers included.
// Prints the median of the runs of each condition as a markdown table.

import { createServer, connect } from 'node:net';
import { launch, missing, pause } from '../verifier/web/tests/e2e/webdriver.mjs';

const [url, runsArg = '3'] = process.argv.slice(2);
if (!url) {
  console.error('usage: node scripts/web-first-visit.mjs URL [RUNS]');
  process.exit(2);
}
const runs = Number(runsArg);
if (missing().length) {
  console.error(`not installed: ${missing().join(', ')} (scripts/install-test-deps)`);
  process.exit(2);
}

const CONDITIONS = [
  { name: 'no throttling', cpu: 1 },
  // DevTools' "Fast 3G": 562.5 ms round trip, 1.44 Mbit/s down, 675 kbit/s up
  { name: 'Fast 3G, 4x CPU', cpu: 4, latency: 562.5, down: 180_000, up: 84_375 },
  // DevTools' "Slow 3G": 2 s round trip, 400 kbit/s each way
  { name: 'Slow 3G, 4x CPU', cpu: 4, latency: 2000, down: 50_000, up: 50_000 },
];

/** A TCP proxy to `target` that counts the bytes through it. */
function countingProxy(target) {
  const counter = { bytes: 0, lastAt: Date.now() };
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    const count = (chunk) => {
      counter.bytes += chunk.length;
      counter.lastAt = Date.now();
    };
    client.on('data', count);
    upstream.on('data', count);
    client.pipe(upstream).on('error', () => client.destroy());
    upstream.pipe(client).on('error', () => upstream.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, counter, port: server.address().port }));
  });
}

async function visit(browser, at, condition, counter) {
  await browser.cdp('Network.enable');
  if (condition.latency) {
    await browser.cdp('Network.emulateNetworkConditions', {
      offline: false,
      latency: condition.latency,
      downloadThroughput: condition.down,
      uploadThroughput: condition.up,
    });
  }
  await browser.cdp('Emulation.setCPUThrottlingRate', { rate: condition.cpu });
  // The moment the page says it is ready, on its own clock.
  await browser.cdp('Page.addScriptToEvaluateOnNewDocument', {
    source: `new MutationObserver(() => {
      if (document.body?.dataset.ready === 'true' && !globalThis.readyAt) {
        globalThis.readyAt = performance.now();
      }
    }).observe(document, { attributes: true, subtree: true });`,
  });
  counter.bytes = 0;
  await browser.goto(at);
  const readyMs = await browser.waitFor(() => globalThis.readyAt, [], { timeout: 180_000, message: 'the page to be ready' });
  const untilReady = counter.bytes;
  // The whole visit: the offline copy made, then two quiet seconds.
  await browser.run(() => navigator.serviceWorker.ready.then(() => true));
  while (Date.now() - counter.lastAt < 2000) await pause(250);
  return { readyMs, untilReady, whole: counter.bytes };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;

const proxy = await countingProxy(new URL(url));
const proxied = new URL(url);
proxied.port = String(proxy.port);
const rows = [];
for (const condition of CONDITIONS) {
  const results = [];
  for (let run = 0; run < runs; run += 1) {
    // Desktop-sized, as the figures in docs/performance.md were measured.
    const browser = await launch({ width: 1280, height: 720, pageLoadStrategy: 'none' });
    try {
      results.push(await visit(browser, proxied.href, condition, proxy.counter).catch((error) => {
        throw new Error(`${condition.name}, run ${run + 1}: ${error.message}`);
      }));
    } finally {
      await browser.quit();
    }
    const last = results[results.length - 1];
    console.error(`${condition.name}, run ${run + 1}: ready after ${(last.readyMs / 1000).toFixed(2)} s, ${kb(last.untilReady)} until then, ${kb(last.whole)} in all`);
  }
  rows.push({
    condition: condition.name,
    ready: median(results.map((r) => r.readyMs)),
    all: results.map((r) => r.readyMs),
    untilReady: median(results.map((r) => r.untilReady)),
    whole: median(results.map((r) => r.whole)),
  });
}
proxy.server.close();

console.log(`| conditions | ready to scan (median of ${runs}) | runs | on the wire until ready | whole first visit |`);
console.log('|---|---|---|---|---|');
for (const row of rows) {
  const all = row.all.map((ms) => (ms / 1000).toFixed(1)).join(', ');
  console.log(`| ${row.condition} | ${(row.ready / 1000).toFixed(1)} s | ${all} | ${kb(row.untilReady)} | ${kb(row.whole)} |`);
}
