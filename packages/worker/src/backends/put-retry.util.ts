import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PutOptions, PutResult, StorageBackend } from './backend.types.js';
import { isStorageError } from './storage.error.js';

export interface RetryOptions extends PutOptions {
  /** Attempts in all (davix-put retries 3 times by default too). */
  attempts?: number;
  baseDelayMs?: number;
  signal?: AbortSignal;
}

/**
 * A put that reopens its source and tries again on retryable errors (connection reset, 5xx, failed
 * verification), with exponential back-off and jitter. XRootD 5.5.3 drops or fails a small share of requests
 * under concurrent load; the job queue retries too, but much more slowly.
 */
export async function putWithRetry(
  backend: StorageBackend,
  open: () => Readable | Promise<Readable>,
  path: string,
  size: number | undefined,
  opts: RetryOptions = {},
): Promise<PutResult> {
  const attempts = opts.attempts ?? 3;
  const base = opts.baseDelayMs ?? 250;
  for (let i = 1; ; i++) {
    try {
      const source = await open();
      if (opts.signal) {
        const onAbort = () => source.destroy(new Error('job aborted'));
        if (opts.signal.aborted) onAbort();
        else opts.signal.addEventListener('abort', onAbort, { once: true });
        source.once('close', () => opts.signal?.removeEventListener('abort', onAbort));
      }
      return await backend.put(source, path, size, opts.expect ? { expect: opts.expect } : {});
    } catch (e) {
      const sourceProblem = isStorageError(e, 'checksum-mismatch') && opts.expect !== undefined;
      if (i >= attempts || !isStorageError(e) || !e.retryable || sourceProblem || opts.signal?.aborted)
        throw e;
      await sleep(base * 2 ** (i - 1) * (0.5 + Math.random()));
    }
  }
}
