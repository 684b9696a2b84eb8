import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Peer, parsePeers } from '../dimse/store.scu.js';

/** Gateway settings from the environment; see README.md (merged into docs/configuration.md). */
export interface GatewayConfig {
  host: string;
  port: number;
  aeTitle: string;
  /** Calling AE titles allowed to associate; empty means any. */
  allowedCallingAeTitles: string[];
  peers: Map<string, Peer>;
  /** Optional DICOM TLS listener (second port). */
  dicomTls: { port: number; certFile: string; keyFile: string; caFile?: string } | undefined;
  logLevel: string;
  databaseUrl: string;
  /** Spool, cache and the de-identification secret live under <dataDir>/gateway. */
  dataDir: string;
  /** Where received instances are spooled (default <dataDir>/gateway/spool); put it on its own volume if you like. */
  spoolDir: string;
  /** Pre-allocated spool slots and their size (instances larger than a slot are spooled as files). */
  spoolSlots: number;
  spoolSlotBytes: number;
  httpHost: string;
  /** Status/metrics HTTP port; undefined disables it. */
  httpPort: number | undefined;
  deidProfile: string;
  deidSecret: string | undefined;
  /** Bounds of the local cache of de-identified objects (enforced only with a WADO-RS source). */
  cache: { maxBytes: number; maxAgeMs: number; sweepMs: number };
  /** WADO-RS base of the central server (retrieve falls back to it when the cache lacks an object). */
  wadoUrl: string | undefined;
  /** De-identify in a worker thread (MEDGRID_GATEWAY_DEID_THREAD, default off). */
  deidThread: boolean;
  /** How often the client certificate files are checked for a renewal (MEDGRID_GATEWAY_TLS_RELOAD_SECONDS). */
  tlsReloadMs: number;
  /** The gateway's client certificate, key and the server CA (PEM files) for STOW-RS and WADO-RS. */
  tlsFiles: { certFile?: string; keyFile?: string; caFile?: string };
  stow:
    | {
        url: string;
        certFile?: string;
        keyFile?: string;
        caFile?: string;
        batchSize: number;
        maxBackoffMs: number;
        tlsReloadMs?: number;
      }
    | undefined;
}

export class GatewayConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

function required(env: Record<string, string | undefined>, name: string): string {
  const v = env[name];
  if (!v) throw new GatewayConfigError(`${name} is required with MEDGRID_GATEWAY_DICOM_TLS_PORT`);
  return v;
}

function numberOf(name: string, raw: string | undefined, def: number, min: number): number {
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(n) || n < min) {
    throw new GatewayConfigError(`${name} must be a number of at least ${min}, got "${raw}"`);
  }
  return n;
}

function portOf(name: string, raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) {
    throw new GatewayConfigError(`${name} must be a port number, got "${raw}"`);
  }
  return Number(raw);
}

/**
 * Settings from a JSON file named by MEDGRID_GATEWAY_CONFIG (an object of the same variable names, string or
 * number values); variables set in the environment win over the file.
 */
export function withConfigFile(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const file = env.MEDGRID_GATEWAY_CONFIG;
  if (!file) return env;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new GatewayConfigError(
      `MEDGRID_GATEWAY_CONFIG: cannot read ${path.basename(file)}: ${(err as NodeJS.ErrnoException).code ?? 'invalid JSON'}`,
    );
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GatewayConfigError('MEDGRID_GATEWAY_CONFIG must name a JSON object of setting names to values');
  }
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (!/^(MEDGRID_|DATABASE_URL$)/.test(k))
      throw new GatewayConfigError(`MEDGRID_GATEWAY_CONFIG: unknown setting ${k}`);
    if (typeof v !== 'string' && typeof v !== 'number')
      throw new GatewayConfigError(`MEDGRID_GATEWAY_CONFIG: ${k} must be a string or number`);
    out[k] = String(v);
  }
  return {
    ...out,
    ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')),
  };
}

export function loadGatewayConfig(rawEnv: Record<string, string | undefined> = process.env): GatewayConfig {
  const env = withConfigFile(rawEnv);
  const port = portOf('MEDGRID_GATEWAY_PORT', env.MEDGRID_GATEWAY_PORT ?? '11112');
  const aeTitle = (env.MEDGRID_GATEWAY_AE_TITLE ?? 'MEDGRID').trim();
  if (!/^[\x20-\x5b\x5d-\x7e]{1,16}$/.test(aeTitle)) {
    throw new GatewayConfigError(
      'MEDGRID_GATEWAY_AE_TITLE must be 1-16 printable characters without backslash',
    );
  }
  const allowed = (env.MEDGRID_GATEWAY_ALLOWED_AE_TITLES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  let peers: Map<string, Peer>;
  try {
    peers = parsePeers(env.MEDGRID_GATEWAY_PEERS ?? '');
  } catch (err) {
    throw new GatewayConfigError(`MEDGRID_GATEWAY_PEERS: ${(err as Error).message}`);
  }
  const databaseUrl = env.MEDGRID_GATEWAY_DATABASE_URL || env.DATABASE_URL;
  if (!databaseUrl) throw new GatewayConfigError('DATABASE_URL (the vault database) is not set');
  const stowUrl = env.MEDGRID_GATEWAY_STOW_URL;
  const tlsReloadMs = Math.round(
    numberOf('MEDGRID_GATEWAY_TLS_RELOAD_SECONDS', env.MEDGRID_GATEWAY_TLS_RELOAD_SECONDS, 60, 0.1) * 1000,
  );
  return {
    host: env.MEDGRID_GATEWAY_HOST || '127.0.0.1',
    port,
    aeTitle,
    allowedCallingAeTitles: allowed,
    peers,
    dicomTls: env.MEDGRID_GATEWAY_DICOM_TLS_PORT
      ? {
          port: portOf('MEDGRID_GATEWAY_DICOM_TLS_PORT', env.MEDGRID_GATEWAY_DICOM_TLS_PORT),
          certFile: required(env, 'MEDGRID_GATEWAY_DICOM_TLS_CERT'),
          keyFile: required(env, 'MEDGRID_GATEWAY_DICOM_TLS_KEY'),
          caFile: env.MEDGRID_GATEWAY_DICOM_TLS_CA || undefined,
        }
      : undefined,
    logLevel: env.MEDGRID_LOG_LEVEL || 'info',
    databaseUrl,
    dataDir: path.resolve(env.MEDGRID_DATA_DIR || '.medgrid'),
    spoolDir: path.resolve(
      env.MEDGRID_GATEWAY_SPOOL_DIR || path.join(env.MEDGRID_DATA_DIR || '.medgrid', 'gateway', 'spool'),
    ),
    spoolSlots: Number(env.MEDGRID_GATEWAY_SPOOL_SLOTS ?? 32),
    spoolSlotBytes: Math.round(Number(env.MEDGRID_GATEWAY_SPOOL_SLOT_MB ?? 2) * 1024 * 1024),
    httpHost: env.MEDGRID_GATEWAY_HTTP_HOST || '127.0.0.1',
    httpPort: env.MEDGRID_GATEWAY_HTTP_PORT
      ? portOf('MEDGRID_GATEWAY_HTTP_PORT', env.MEDGRID_GATEWAY_HTTP_PORT)
      : undefined,
    deidProfile: env.MEDGRID_GATEWAY_DEID_PROFILE || 'basic',
    deidSecret: env.MEDGRID_GATEWAY_DEID_SECRET || undefined,
    cache: {
      maxBytes: Math.round(
        numberOf('MEDGRID_GATEWAY_CACHE_MAX_MB', env.MEDGRID_GATEWAY_CACHE_MAX_MB, 10240, 0) * 1024 * 1024,
      ),
      maxAgeMs: Math.round(
        numberOf('MEDGRID_GATEWAY_CACHE_MAX_AGE_HOURS', env.MEDGRID_GATEWAY_CACHE_MAX_AGE_HOURS, 720, 0) *
          3600_000,
      ),
      sweepMs: Math.round(
        numberOf('MEDGRID_GATEWAY_CACHE_SWEEP_SECONDS', env.MEDGRID_GATEWAY_CACHE_SWEEP_SECONDS, 60, 0.1) *
          1000,
      ),
    },
    wadoUrl: env.MEDGRID_GATEWAY_WADO_URL || undefined,
    tlsReloadMs,
    // Off by default: on 2 cores the extra thread competes with the network and the spool (bench/gateway A/B).
    deidThread: /^(on|true|1)$/i.test(env.MEDGRID_GATEWAY_DEID_THREAD ?? ''),
    tlsFiles: {
      certFile: env.MEDGRID_GATEWAY_TLS_CERT || undefined,
      keyFile: env.MEDGRID_GATEWAY_TLS_KEY || undefined,
      caFile: env.MEDGRID_GATEWAY_TLS_CA || undefined,
    },
    stow: stowUrl
      ? {
          url: stowUrl,
          certFile: env.MEDGRID_GATEWAY_TLS_CERT || undefined,
          keyFile: env.MEDGRID_GATEWAY_TLS_KEY || undefined,
          caFile: env.MEDGRID_GATEWAY_TLS_CA || undefined,
          batchSize: Number(env.MEDGRID_GATEWAY_STOW_BATCH || 16),
          maxBackoffMs: Number(env.MEDGRID_GATEWAY_STOW_MAX_BACKOFF_MS || 300_000),
          tlsReloadMs,
        }
      : undefined,
  };
}
