import { decodeIdentity, isDicomError, restore } from '@medgrid/dicom';
import type { DeidCache } from '../ingest/ingest.service.js';
import type { RetrieveRow } from '../vault/vault.service.js';

/**
 * Where de-identified objects come from on retrieve. The local cache is first; the central server's
 * WADO-RS (`GET /dicomweb/studies/{study}/series/{series}/instances/{sop}`, with the gateway's
 * certificate) plugs in here as a second source once the server exposes it.
 */
export interface DeidSource {
  readonly name: string;
  fetch(row: RetrieveRow): Promise<Buffer | undefined>;
}

export class LocalCacheSource implements DeidSource {
  readonly name = 'cache';
  constructor(private readonly cache: DeidCache) {}
  fetch(row: RetrieveRow): Promise<Buffer | undefined> {
    return this.cache.get(row.cache_ref);
  }
}

export class RetrieveError extends Error {
  constructor(
    readonly reason: 'NOT_AVAILABLE' | 'RESTORE_FAILED' | 'SHA_MISMATCH',
    message: string,
  ) {
    super(message);
  }
}

/** Offset of the dataset in a Part 10 file that has a (0002,0000) group length (as the gateway writes them). */
export function part10DatasetOffset(file: Buffer): number {
  if (
    file.length >= 144 &&
    file.toString('latin1', 128, 132) === 'DICM' &&
    file.readUInt32LE(132) === 0x00000002
  ) {
    return 144 + file.readUInt32LE(140);
  }
  throw new RetrieveError('RESTORE_FAILED', 'restored file has no file meta group length');
}

/**
 * Fetches the de-identified object, restores the original with the vault's identity record and checks
 * its SHA-256 against the one taken at ingest. Returns the original file and its dataset part.
 */
export async function restoreOriginal(
  sources: readonly DeidSource[],
  row: RetrieveRow,
): Promise<{ file: Buffer; dataset: Buffer }> {
  let deid: Buffer | undefined;
  for (const s of sources) {
    deid = await s.fetch(row).catch(() => undefined);
    if (deid) break;
  }
  if (!deid) throw new RetrieveError('NOT_AVAILABLE', 'de-identified object not available from any source');
  let file: Buffer;
  let record: ReturnType<typeof decodeIdentity>;
  try {
    record = decodeIdentity(row.identity);
  } catch {
    throw new RetrieveError('RESTORE_FAILED', 'identity record cannot be decoded');
  }
  // The record's SHA-256 must be the one the vault recorded at ingest; restore() then checks the bytes against it.
  if (record.sha256.toString('hex') !== row.sha256) {
    throw new RetrieveError('SHA_MISMATCH', 'identity record does not carry the SHA-256 recorded at ingest');
  }
  try {
    file = restore(deid, record);
  } catch (err) {
    const code = isDicomError(err) ? err.code : 'ERROR';
    throw new RetrieveError(
      code === 'SHA_MISMATCH' ? 'SHA_MISMATCH' : 'RESTORE_FAILED',
      `restore failed: ${code}`,
    );
  }
  return { file, dataset: file.subarray(part10DatasetOffset(file)) };
}
