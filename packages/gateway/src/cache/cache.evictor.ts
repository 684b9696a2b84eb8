import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { DeidCache } from '../ingest/ingest.service.js';
import type { ErrorLog, GatewayMetrics } from '../ops/metrics.js';
import type { Vault } from '../vault/vault.service.js';

export interface CacheBounds {
  /** Upper bound of the packs' total size, in bytes. */
  maxBytes: number;
  /** Packs older than this are evicted (ms); 0 means no age bound. */
  maxAgeMs: number;
  /** How often the bounds are enforced (ms). */
  sweepMs: number;
}

export interface SweepResult {
  evictedPacks: number;
  evictedBytes: number;
  /** What stays: total size and number of packs. */
  bytes: number;
  packs: number;
  /** Packs over a bound that still hold objects not yet on the server. */
  pinned: number;
}

/** A pack no vault row references is an orphan (its objects were re-sent into a newer pack) after this long. */
const ORPHAN_GRACE_MS = 3600_000;

interface PackInfo {
  name: string;
  bytes: number;
  mtimeMs: number;
}

/**
 * Keeps the cache of de-identified objects within a size and an age bound. Only packs whose every object the
 * server has acknowledged (upload_state `uploaded`) may go, and only when the server's WADO-RS is configured:
 * a retrieve of an evicted object then fetches it from the server and restores the same bytes. Oldest packs go
 * first. A pack's vault references are cleared before the file is removed, so a retrieve sees either the pack
 * or no reference (then WADO-RS), never a dangling one it would count as a failure.
 */
export class CacheEvictor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SweepResult> | undefined;
  last: SweepResult | undefined;

  constructor(
    private readonly bounds: CacheBounds,
    private readonly deps: {
      cache: DeidCache;
      vault: Vault;
      log: Logger;
      metrics: GatewayMetrics;
      errors: ErrorLog;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sweep().catch(() => undefined), this.bounds.sweepMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One pass (concurrent callers share it). */
  sweep(now = Date.now()): Promise<SweepResult> {
    this.running ??= this.pass(now)
      .catch((err: NodeJS.ErrnoException) => {
        this.deps.errors.push('cache', `eviction failed: ${err.code ?? 'error'}`);
        throw err;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async packs(): Promise<PackInfo[]> {
    const dir = path.join(this.deps.cache.dir, 'packs');
    const out: PackInfo[] = [];
    for (const name of await fs.readdir(dir)) {
      if (!name.endsWith('.pack')) continue;
      const st = await fs.stat(path.join(dir, name)).catch(() => undefined);
      if (st) out.push({ name, bytes: st.size, mtimeMs: st.mtimeMs });
    }
    return out.sort((a, b) => a.mtimeMs - b.mtimeMs);
  }

  private async pass(now: number): Promise<SweepResult> {
    const all = await this.packs();
    let bytes = all.reduce((s, p) => s + p.bytes, 0);
    const over = (p: PackInfo) =>
      bytes > this.bounds.maxBytes || (this.bounds.maxAgeMs > 0 && now - p.mtimeMs > this.bounds.maxAgeMs);
    const candidates = all.filter(over);
    const result: SweepResult = { evictedPacks: 0, evictedBytes: 0, bytes, packs: all.length, pinned: 0 };
    if (candidates.length) {
      // Packs still holding an object the server has not acknowledged (one scan of the vault).
      const r = await this.deps.vault.query<{ pack: string }>(
        `select distinct split_part(cache_ref, ':', 1) as pack from vault_instance
          where cache_ref is not null and upload_state <> 'uploaded'`,
      );
      const pinned = new Set(r.rows.map((x) => x.pack));
      for (const p of candidates) {
        if (!over(p)) continue; // the size bound is met by now
        if (pinned.has(p.name)) {
          result.pinned++;
          continue;
        }
        if (!(await this.evict(p, now))) {
          result.pinned++;
          continue;
        }
        bytes -= p.bytes;
        result.evictedPacks++;
        result.evictedBytes += p.bytes;
      }
    }
    result.bytes = bytes;
    result.packs = all.length - result.evictedPacks;
    this.deps.metrics.cacheBytes.set(bytes);
    if (result.evictedPacks) {
      this.deps.metrics.cacheEvictedPacks.inc(result.evictedPacks);
      this.deps.log.info(
        { packs: result.evictedPacks, bytes: result.evictedBytes, left: bytes },
        'cache: evicted packs already on the server',
      );
    }
    this.last = result;
    return result;
  }

  /**
   * Clears the pack's references (only if all its objects are uploaded), then removes the file. A pack nobody
   * references is removed only after a grace period: the ingest batch that wrote it may not have recorded it yet.
   */
  private async evict(p: PackInfo, now: number): Promise<boolean> {
    const like = `${p.name}:%`;
    const refs = await this.deps.vault.query<{ n: string }>(
      'select count(*) as n from vault_instance where cache_ref like $1',
      [like],
    );
    const n = Number(refs.rows[0]?.n ?? 0);
    if (n === 0 && now - p.mtimeMs < ORPHAN_GRACE_MS) return false;
    if (n > 0) {
      const r = await this.deps.vault.query(
        `update vault_instance set cache_ref = null
          where cache_ref like $1
            and not exists (select 1 from vault_instance b where b.cache_ref like $1 and b.upload_state <> 'uploaded')`,
        [like],
      );
      if ((r.rowCount ?? 0) < n) return false;
    }
    await fs.rm(path.join(this.deps.cache.dir, 'packs', p.name), { force: true });
    return true;
  }
}
