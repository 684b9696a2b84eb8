import type { EntityManager } from '@mikro-orm/core';
import type { PutResult } from '../backends/backend.types.js';
import {
  type IReplica,
  type IStorageElement,
  type IStoredObject,
  Replica,
  type SeStatus,
} from './storage.entity.js';

/** SEs we may read from. */
export const READABLE: ReadonlySet<SeStatus> = new Set(['up', 'read-only', 'draining']);
/** SEs we may write to. */
export const WRITABLE: ReadonlySet<SeStatus> = new Set(['up']);

/** Does this replica count towards the object's copies? (A down SE is assumed to come back; draining/lost not.) */
export function counts(r: IReplica): boolean {
  return r.state === 'ok' && (r.se.status === 'up' || r.se.status === 'read-only' || r.se.status === 'down');
}

/** Records a verified copy: creates the replica row, or brings a bad/missing one back to ok. */
export function recordReplica(
  em: EntityManager,
  obj: IStoredObject,
  se: IStorageElement,
  existing: IReplica | undefined,
  put: PutResult,
): IReplica {
  const fields = {
    path: put.path,
    size: put.size,
    adler32: put.adler32,
    sha256: put.sha256,
    state: 'ok' as const,
    verifiedAt: put.verifiedAt,
    lastError: null,
  };
  if (existing) {
    em.assign(existing, fields);
    return existing;
  }
  se.usedBytes = Number(se.usedBytes) + put.size;
  return em.create(Replica, { object: obj, se, ...fields });
}

export function hasRoom(se: IStorageElement, size: number): boolean {
  return se.quotaBytes == null || Number(se.usedBytes) + size <= Number(se.quotaBytes);
}
