import type { Readable } from 'node:stream';
import type { Digests } from '../checksum/digest.stream.js';

/** An object or directory on a storage element; `path` is relative to the backend's base URL. */
export interface ObjectStat {
  path: string;
  size: number;
  isDir: boolean;
  /** ADLER32 as 8 hex digits, when the SE reported it (davs: only when asked with Want-Digest). */
  adler32?: string;
  mtime?: Date;
}

/** What a verified put stored. */
export interface PutResult extends Digests {
  path: string;
  verifiedAt: Date;
}

export type ByteSource = Readable | AsyncIterable<Uint8Array>;

export interface PutOptions {
  /** When the caller already knows the digests (e.g. from the spool), a mismatch while streaming fails the put. */
  expect?: Partial<Digests>;
}

/** One storage element. Every method streams; none holds a whole object in memory. */
export interface StorageBackend {
  /** The SE's name, used in errors and metrics. */
  readonly name: string;
  /** Base URL (file:///dir, davs://host:port/path). */
  readonly url: string;
  /** Uploads, then verifies size and ADLER32 from the SE; on a mismatch deletes the object and throws. */
  put(source: ByteSource, path: string, size?: number, opts?: PutOptions): Promise<PutResult>;
  /** A stream of the object's bytes. */
  get(path: string): Promise<Readable>;
  /** Size, type and (unless checksum is false) ADLER32 of an object; null when it does not exist. */
  stat(path: string, opts?: { checksum?: boolean }): Promise<ObjectStat | null>;
  /** Deletes an object; false when it was not there. */
  delete(path: string): Promise<boolean>;
  /** Every object (not directory) under `prefix`, recursively. */
  list(prefix?: string): AsyncIterable<ObjectStat>;
  /** Creates a directory and its parents. */
  mkdirs(path: string): Promise<void>;
  /** Renames an object inside the SE (used to quarantine dark files). */
  move(from: string, to: string): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}
