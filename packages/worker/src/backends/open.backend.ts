import type { StorageBackend } from './backend.types.js';
import type { SeCredentials } from './credentials.util.js';
import { DavsBackend, type DavsOptions } from './davs.backend.js';
import { FileBackend } from './file.backend.js';

/** Opens the backend for an SE URL: file:///dir, davs://host:port/path or https://host:port/path. */
export function openBackend(url: string, creds: SeCredentials = {}, opts: DavsOptions = {}): StorageBackend {
  const scheme = url.slice(0, url.indexOf(':')).toLowerCase();
  switch (scheme) {
    case 'file':
      return new FileBackend(url, opts.name === undefined ? {} : { name: opts.name });
    case 'davs':
    case 'https':
      return new DavsBackend(url, creds, opts);
    default:
      // The interface admits more (s3://, root://); refuse clearly until they exist.
      throw new Error(`no storage backend for scheme "${scheme}"`);
  }
}
