// What the phone keeps between visits, in IndexedDB: the pinned root set,
// the trust list and each issuer's status list, byte for byte as signed,
// the highest trust-list sequence and the newest time ever seen. Nothing is trusted for being here: the
// worker checks every list again when it is loaded (docs/web-verifier.md).

const DB = 'sealpass-checkpoint';
const STORE = 'lists';

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

let db;
async function transaction(mode, work) {
  db = db || await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const result = work(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(result && 'result' in result ? result.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export const store = {
  get: (key) => transaction('readonly', (s) => s.get(key)),
  put: (key, value) => transaction('readwrite', (s) => { s.put(value, key); }),
  delete: (key) => transaction('readwrite', (s) => { s.delete(key); }),
  keys: () => transaction('readonly', (s) => s.getAllKeys()),
};

/**
 * Keys: `roots` (the pinned root set: it follows a rotation once the
 * rotated trust list is stored), `trust-list`, `status/<issuer>`,
 * `highest-sequence` (the highest trust-list sequence ever accepted: a
 * phone starting again from the pinned roots never goes below it),
 * `newest-seen`, `last-sync`.
 */
export const statusKey = (issuer) => `status/${issuer}`;
