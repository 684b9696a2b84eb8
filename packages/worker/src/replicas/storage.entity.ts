import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import type { SeCredentials } from '../backends/credentials.util.js';

/** up: read+write. read-only/draining: read only (draining: its replicas are moved away). down: skipped for now.
 * lost: its replicas are gone for good and get copied again from good ones. */
export const SE_STATUSES = ['up', 'down', 'read-only', 'draining', 'lost'] as const;
export type SeStatus = (typeof SE_STATUSES)[number];

/** ok: verified. bad: failed verification. missing: not on the SE any more (scan). lost: its SE is lost. */
export const REPLICA_STATES = ['ok', 'bad', 'missing', 'lost'] as const;
export type ReplicaState = (typeof REPLICA_STATES)[number];

/** SE registry. `credentials` holds file paths (robot cert/key or proxy, CA dir), never key material. */
export const StorageElement = defineEntity({
  name: 'StorageElement',
  tableName: 'storage_element',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().unique(),
    url: p.text(),
    status: p.enum(SE_STATUSES).default('up'),
    weight: p.integer().default(1),
    quotaBytes: p.bigint('number').nullable(),
    usedBytes: p.bigint('number').default(0),
    credentials: p.json<SeCredentials>().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});
export type IStorageElement = InferEntity<typeof StorageElement>;

/**
 * A de-identified object the worker keeps on the grid, keyed by its SHA-256 (which is also its SE path).
 * `spoolPath` is the local file it is uploaded from; `copies` is the replication policy for it.
 */
export const StoredObject = defineEntity({
  name: 'StoredObject',
  tableName: 'storage_object',
  properties: {
    id: p.string().primary().length(64),
    size: p.bigint('number'),
    adler32: p.string().length(8),
    copies: p.integer().default(2),
    spoolPath: p.text().nullable(),
    deleteRequested: p.boolean().default(false),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type IStoredObject = InferEntity<typeof StoredObject>;

/** One copy of an object on one SE. Written only after the upload was verified by size and ADLER32. */
export const Replica = defineEntity({
  name: 'Replica',
  tableName: 'storage_replica',
  uniques: [{ properties: ['object', 'se'] }],
  // Scans read every replica of one SE.
  indexes: [{ properties: ['se', 'state'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    object: () => p.manyToOne(StoredObject).deleteRule('cascade'),
    se: () => p.manyToOne(StorageElement),
    path: p.text(),
    size: p.bigint('number'),
    adler32: p.string().length(8),
    sha256: p.string().length(64),
    state: p.enum(REPLICA_STATES).default('ok'),
    verifiedAt: p.datetime(),
    lastError: p.text().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type IReplica = InferEntity<typeof Replica>;

/** Add these to the server's ORM config (entities) so its migrations include the storage tables. */
export const storageEntities = [StorageElement, StoredObject, Replica];
