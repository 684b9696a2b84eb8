import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import type { DeidCache } from '../ingest/ingest.service.js';
import type { ErrorLog, GatewayMetrics } from '../ops/metrics.js';
import { ClientAgent } from '../tls/client-agent.js';
import type { Vault } from '../vault/vault.service.js';

export interface StowConfig {
  /** STOW-RS endpoint, e.g. https://server:8443/dicomweb/studies */
  url: string;
  /** PEM files for mutual TLS (the gateway's certificate and key, and the CA that signed the server). */
  certFile?: string;
  keyFile?: string;
  caFile?: string;
  batchSize: number;
  /** Upper bound of the retry back-off, in ms. */
  maxBackoffMs: number;
  /** How often the certificate files are checked for a renewal, in ms. */
  tlsReloadMs?: number;
}

interface Due {
  sop_instance_uid: string;
  deid_sop_instance_uid: string;
  cache_ref: string | null;
  upload_attempts: number;
}

/**
 * Sends de-identified objects from the vault backlog to the central server over STOW-RS. The backlog is
 * the `upload_state` column of the vault, so it survives restarts; failures are retried with
 * exponential back-off. Only de-identified bytes (from the cache) are ever sent.
 */
export class StowUploader {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private stopped = false;
  private readonly agent: ClientAgent;

  constructor(
    private readonly cfg: StowConfig,
    private readonly deps: {
      vault: Vault;
      cache: DeidCache;
      log: Logger;
      metrics: GatewayMetrics;
      errors: ErrorLog;
    },
  ) {
    this.agent = new ClientAgent(cfg.url, cfg, cfg.tlsReloadMs, () =>
      deps.log.info('client certificate files changed; new connections use them'),
    );
  }

  start(): void {
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.agent.destroy();
  }

  /** Runs a pass now (called after new instances reach the vault). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.running = true;
    void this.pass().finally(() => {
      this.running = false;
      if (this.stopped) return;
      const delay = this.again ? 0 : 1000;
      this.again = false;
      this.timer = setTimeout(() => this.kick(), delay);
      this.timer.unref();
    });
  }

  private async pass(): Promise<void> {
    const { vault, metrics } = this.deps;
    try {
      for (;;) {
        if (this.stopped) return;
        const due = (
          await vault.query<Due>(
            `select sop_instance_uid, deid_sop_instance_uid, cache_ref, upload_attempts from vault_instance
              where upload_state = 'pending' and next_upload_at <= now() order by received_at limit $1`,
            [this.cfg.batchSize],
          )
        ).rows;
        if (!due.length) break;
        const ok = await this.uploadBatch(due);
        if (!ok) break;
      }
      const counts = await vault.backlogCounts();
      metrics.uploadBacklog.set(counts.pending ?? 0);
    } catch (err) {
      this.deps.errors.push(
        'upload',
        `backlog pass failed: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
  }

  private async uploadBatch(due: Due[]): Promise<boolean> {
    const { vault, cache, log, metrics, errors } = this.deps;
    const parts: { row: Due; bytes: Buffer }[] = [];
    for (const row of due) {
      const bytes = await cache.get(row.cache_ref);
      if (!bytes) {
        await vault.query(
          `update vault_instance set upload_state = 'failed', last_upload_error = 'de-identified object missing from cache' where sop_instance_uid = $1`,
          [row.sop_instance_uid],
        );
        errors.push('upload', 'de-identified object missing from cache');
        continue;
      }
      parts.push({ row, bytes });
    }
    if (!parts.length) return true;
    let failure: string | undefined;
    let accepted = new Set<string>();
    try {
      const res = await this.post(parts.map((p) => p.bytes));
      if (res.status === 200 || res.status === 202) {
        accepted = acceptedUids(
          res.body,
          parts.map((p) => p.row.deid_sop_instance_uid),
          res.status,
        );
      } else failure = `server answered HTTP ${res.status}`;
    } catch (err) {
      failure = `server unreachable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
    const okUids = parts
      .filter((p) => accepted.has(p.row.deid_sop_instance_uid))
      .map((p) => p.row.sop_instance_uid);
    const bad = parts.filter((p) => !accepted.has(p.row.deid_sop_instance_uid));
    if (okUids.length) {
      await vault.query(
        `update vault_instance set upload_state = 'uploaded', uploaded_at = now(), last_upload_error = null
          where sop_instance_uid = any($1::text[])`,
        [okUids],
      );
      metrics.uploads.inc({ outcome: 'success' }, okUids.length);
    }
    if (bad.length) {
      const reason = failure ?? 'instance refused by the server';
      errors.push('upload', reason);
      log.warn({ count: bad.length, reason }, 'upload failed; will retry');
      metrics.uploads.inc({ outcome: 'failure' }, bad.length);
      for (const b of bad) {
        const attempts = b.row.upload_attempts + 1;
        const backoff = Math.min(this.cfg.maxBackoffMs, 1000 * 2 ** Math.min(attempts - 1, 20));
        await vault.query(
          `update vault_instance set upload_attempts = $2, next_upload_at = now() + ($3 || ' milliseconds')::interval,
             last_upload_error = $4 where sop_instance_uid = $1`,
          [b.row.sop_instance_uid, attempts, String(backoff), reason.slice(0, 500)],
        );
      }
    }
    return !failure;
  }

  private post(files: Buffer[]): Promise<{ status: number; body: string }> {
    const boundary = `medgrid-${randomBytes(12).toString('hex')}`;
    const chunks: Buffer[] = [];
    for (const f of files) {
      chunks.push(
        Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, 'latin1'),
        f,
        Buffer.from('\r\n'),
      );
    }
    chunks.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
    const body = Buffer.concat(chunks);
    const u = new URL(this.cfg.url);
    const mod = u.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        u,
        {
          method: 'POST',
          agent: this.agent.agent,
          timeout: 60_000,
          headers: {
            'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
            'content-length': body.length,
            accept: 'application/dicom+json',
          },
        },
        (res) => {
          const got: Buffer[] = [];
          res.on('data', (c: Buffer) => got.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(got).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** SOP Instance UIDs the STOW-RS response lists as stored (ReferencedSOPSequence); all of them on a bare 200. */
export function acceptedUids(body: string, sent: string[], status: number): Set<string> {
  try {
    const json = JSON.parse(body) as Record<string, { Value?: Record<string, { Value?: string[] }>[] }>;
    const refs = json['00081199']?.Value ?? [];
    const failed = json['00081198']?.Value ?? [];
    if (refs.length || failed.length) {
      return new Set(refs.map((r) => r['00081155']?.Value?.[0]).filter((x): x is string => !!x));
    }
  } catch {
    // not JSON: fall through
  }
  return status === 200 ? new Set(sent) : new Set();
}
