import http from 'node:http';
import https from 'node:https';
import { ClientAgent, type ClientTlsFiles } from '../tls/client-agent.js';
import type { RetrieveRow } from '../vault/vault.service.js';
import type { DeidSource } from './retrieve.service.js';

/** First part of a multipart/related body. */
export function firstPart(body: Buffer, contentType: string): Buffer | undefined {
  const m = /boundary="?([^";]+)"?/i.exec(contentType);
  if (!m) return undefined;
  const delim = Buffer.from(`--${m[1]}`, 'latin1');
  const start = body.indexOf(delim);
  if (start < 0) return undefined;
  const headersEnd = body.indexOf('\r\n\r\n', start + delim.length);
  if (headersEnd < 0) return undefined;
  const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headersEnd + 4);
  if (next < 0) return undefined;
  return body.subarray(headersEnd + 4, next);
}

/**
 * De-identified objects from the central server's WADO-RS (second source after the local cache), fetched with
 * the gateway's certificate. Only de-identified UIDs appear in the URL.
 */
export class WadoRsSource implements DeidSource {
  readonly name = 'wado-rs';
  private readonly agent: ClientAgent;

  constructor(
    private readonly baseUrl: string,
    tls: ClientTlsFiles = {},
    reloadMs?: number,
  ) {
    this.agent = new ClientAgent(baseUrl, tls, reloadMs);
  }

  close(): void {
    this.agent.destroy();
  }

  fetch(row: RetrieveRow): Promise<Buffer | undefined> {
    if (!row.deid_study_instance_uid || !row.deid_series_instance_uid) return Promise.resolve(undefined);
    const url = new URL(
      `${this.baseUrl.replace(/\/$/, '')}/studies/${row.deid_study_instance_uid}/series/${row.deid_series_instance_uid}/instances/${row.deid_sop_instance_uid}`,
    );
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.get(
        url,
        {
          agent: this.agent.agent,
          timeout: 60_000,
          headers: { accept: 'multipart/related; type="application/dicom"' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            if (res.statusCode !== 200) return resolve(undefined);
            resolve(firstPart(Buffer.concat(chunks), String(res.headers['content-type'] ?? '')));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
    });
  }
}
