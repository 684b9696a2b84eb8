import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';

export interface ClientTlsFiles {
  certFile?: string;
  keyFile?: string;
  caFile?: string;
}

/**
 * The HTTP(S) agent for the gateway's calls to the server. Its certificate files are checked again at most every
 * `reloadMs`: a certificate renewed on disk (by `medgrid start` or `medgrid admin service-credentials`) is used
 * for new connections without a restart. Files that cannot be read (for example half-written) keep the old agent.
 */
export class ClientAgent {
  private current: http.Agent;
  private stamp: string;
  private checkedAt = Date.now();
  private readonly https: boolean;

  constructor(
    url: string,
    private readonly files: ClientTlsFiles = {},
    private readonly reloadMs = 60_000,
    private readonly onReload?: () => void,
  ) {
    this.https = url.startsWith('https:');
    this.stamp = this.readStamp();
    this.current = this.build();
  }

  private readStamp(): string {
    return [this.files.certFile, this.files.keyFile, this.files.caFile]
      .map((f) => {
        if (!f) return '';
        try {
          const s = fs.statSync(f);
          return `${s.mtimeMs}:${s.size}:${s.ino}`;
        } catch {
          return 'missing';
        }
      })
      .join('|');
  }

  private build(): http.Agent {
    if (!this.https) return new http.Agent({ keepAlive: true });
    const { certFile, keyFile, caFile } = this.files;
    return new https.Agent({
      keepAlive: true,
      // No TLS session resumption: servers that verify client certificates may refuse resumed sessions.
      maxCachedSessions: 0,
      cert: certFile ? fs.readFileSync(certFile) : undefined,
      key: keyFile ? fs.readFileSync(keyFile) : undefined,
      ca: caFile ? fs.readFileSync(caFile) : undefined,
    });
  }

  /** The agent for the next request. */
  get agent(): http.Agent {
    if (this.https && Date.now() - this.checkedAt >= this.reloadMs) {
      this.checkedAt = Date.now();
      const stamp = this.readStamp();
      if (stamp !== this.stamp) {
        try {
          const next = this.build();
          const old = this.current;
          this.current = next;
          this.stamp = stamp;
          // Requests still under way on the old agent finish; its idle sockets go.
          setTimeout(() => old.destroy(), 120_000).unref();
          this.onReload?.();
        } catch {
          // Read again at the next check.
        }
      }
    }
    return this.current;
  }

  destroy(): void {
    this.current.destroy();
  }
}
