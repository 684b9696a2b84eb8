import { digestOf } from '../checksum/digest.stream.js';
import type { StorageBackend } from './backend.types.js';

export interface Expected {
  size: number;
  adler32: string;
  sha256?: string;
}

export type VerifyOutcome =
  | { ok: true }
  | { ok: false; reason: 'missing' | 'size' | 'adler32' | 'sha256'; detail: string };

/**
 * Checks one object against what was recorded.
 * quick: HEAD + Want-Digest. XRootD caches the ADLER32 in an xattr keyed by mtime (whole seconds), so silent
 * corruption that keeps the mtime is invisible to it. full: reads the bytes back and recomputes both sums.
 */
export async function verifyObject(
  backend: StorageBackend,
  path: string,
  expected: Expected,
  mode: 'quick' | 'full' = 'full',
): Promise<VerifyOutcome> {
  const st = await backend.stat(path, { checksum: mode === 'quick' });
  if (!st) return { ok: false, reason: 'missing', detail: 'object not on the SE' };
  if (st.size !== expected.size)
    return { ok: false, reason: 'size', detail: `size ${st.size}, expected ${expected.size}` };
  if (mode === 'quick') {
    if (st.adler32 !== expected.adler32)
      return {
        ok: false,
        reason: 'adler32',
        detail: `adler32 ${st.adler32 ?? 'none'}, expected ${expected.adler32}`,
      };
    return { ok: true };
  }
  const d = await digestOf(await backend.get(path));
  if (d.size !== expected.size)
    return { ok: false, reason: 'size', detail: `read ${d.size} bytes, expected ${expected.size}` };
  if (d.adler32 !== expected.adler32)
    return { ok: false, reason: 'adler32', detail: `adler32 ${d.adler32}, expected ${expected.adler32}` };
  if (expected.sha256 && d.sha256 !== expected.sha256)
    return { ok: false, reason: 'sha256', detail: 'sha256 differs from the recorded one' };
  return { ok: true };
}
