import type { ChallengeRecord, ChallengeStore } from './challenge.store.js';

/**
 * Single-process store for tests and development. Bounded: challenges are created before authentication,
 * so an unbounded map would be a memory-exhaustion target. When full, expired entries go first, then the oldest.
 */
export class InMemoryChallengeStore implements ChallengeStore {
  private readonly records = new Map<string, ChallengeRecord>();
  private readonly maxEntries: number;
  private readonly clock: () => Date;

  constructor(options: { maxEntries?: number; clock?: () => Date } = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.clock = options.clock ?? (() => new Date());
  }

  get size(): number {
    return this.records.size;
  }

  async save(record: ChallengeRecord): Promise<void> {
    if (this.records.has(record.id)) throw new Error('duplicate challenge id');
    if (this.records.size >= this.maxEntries) {
      await this.purgeExpired(this.clock());
      // Map iteration order is insertion order, so the first key is the oldest.
      while (this.records.size >= this.maxEntries) {
        const oldest = this.records.keys().next().value;
        if (oldest === undefined) break;
        this.records.delete(oldest);
      }
    }
    this.records.set(record.id, { ...record, nonce: Buffer.from(record.nonce) });
  }

  async take(id: string): Promise<ChallengeRecord | undefined> {
    const r = this.records.get(id);
    if (r) this.records.delete(id);
    return r;
  }

  async purgeExpired(now: Date): Promise<number> {
    let n = 0;
    for (const [id, r] of this.records) {
      if (r.expiresAt.getTime() <= now.getTime()) {
        this.records.delete(id);
        n++;
      }
    }
    return n;
  }
}
