import { randomBytes } from 'node:crypto';

/** UUIDv7: time-ordered, so `ORDER BY id DESC` is newest first and ids work as keyset cursors. */
export function uuidv7(now = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

export const MAX_PAGE = 100;

export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
}

/** Clamps a page size to 1..100 (default 50). */
export function pageSize(first?: number | null): number {
  if (first === undefined || first === null) return 50;
  if (!Number.isInteger(first) || first < 1) return 1;
  return Math.min(first, MAX_PAGE);
}
