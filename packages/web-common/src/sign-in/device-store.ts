import type { BrowserIdentity } from './identity.js';

// "Remember this device": the non-extractable CryptoKey and the certificate in IndexedDB (structured clone keeps
// the key non-extractable; its bytes can never be read back).
const DB = 'medgrid';
const STORE = 'device';
const KEY = 'identity';

function open(): Promise<IDBDatabase> | undefined {
  const idb = globalThis.indexedDB;
  if (!idb) return undefined;
  return new Promise((resolve, reject) => {
    const req = idb.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function run<T>(
  mode: IDBTransactionMode,
  fn: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T | undefined> {
  const opening = open();
  if (!opening) return undefined;
  const db = await opening;
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = fn(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  } finally {
    db.close();
  }
}

export async function loadRememberedIdentity(): Promise<BrowserIdentity | undefined> {
  try {
    const value = await run<BrowserIdentity | undefined>('readonly', (s) => s.get(KEY));
    return value && value.privateKey instanceof CryptoKey ? value : undefined;
  } catch {
    return undefined;
  }
}

export async function rememberIdentity(identity: BrowserIdentity): Promise<void> {
  if (identity.privateKey.extractable) throw new Error('only non-extractable keys are remembered');
  await run('readwrite', (s) => s.put(identity, KEY));
}

export async function forgetIdentity(): Promise<void> {
  await run('readwrite', (s) => s.delete(KEY));
}
