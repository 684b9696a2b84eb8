import path from 'node:path';

/** Raised for any invalid setting; the CLI prints it as one line and exits 2. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

export type Environment = 'development' | 'production' | 'test';

export interface TlsConfig {
  certFile: string;
  keyFile: string;
  /** CA bundle used to verify client certificates; when set the server asks for one. */
  clientCaFile?: string;
  requireClientCert: boolean;
}

export interface MedgridConfig {
  env: Environment;
  dataDir: string;
  /** Undefined means: start (or join) the embedded PostgreSQL under dataDir. */
  databaseUrl?: string;
  host: string;
  port: number;
  gatewayPort: number;
  gatewayAeTitle: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  tls?: TlsConfig;
  doctorAppDir: string;
  adminAppDir: string;
  shutdownTimeoutMs: number;
}

type Env = Record<string, string | undefined>;

/** One row per variable; docs/configuration.md mirrors this table and a test keeps them in step. */
export const CONFIG_VARIABLES = [
  {
    name: 'MEDGRID_ENV',
    default: 'development',
    doc: 'development, production or test. Production turns off GraphQL introspection and development accounts.',
  },
  {
    name: 'MEDGRID_DATA_DIR',
    default: './.medgrid',
    doc: 'Where embedded PostgreSQL, the spool, caches, the CA and the local-directory SE live.',
  },
  {
    name: 'DATABASE_URL',
    default: '(unset: embedded PostgreSQL)',
    doc: 'postgres://user:pass@host:port/db. When unset, an embedded PostgreSQL is started under MEDGRID_DATA_DIR/postgres.',
  },
  {
    name: 'MEDGRID_HOST',
    default: '127.0.0.1',
    doc: 'Address the HTTP(S) server binds to. Loopback by default.',
  },
  {
    name: 'MEDGRID_PORT',
    default: '8080',
    doc: 'HTTP(S) port of the server (GraphQL, DICOMweb, the two web apps).',
  },
  { name: 'MEDGRID_GATEWAY_PORT', default: '11112', doc: 'DICOM (DIMSE) port of the gateway.' },
  {
    name: 'MEDGRID_GATEWAY_AE_TITLE',
    default: 'MEDGRID',
    doc: 'Application entity title of the gateway (1-16 characters).',
  },
  {
    name: 'MEDGRID_LOG_LEVEL',
    default: 'info',
    doc: 'fatal, error, warn, info, debug, trace or silent. Logs are JSON lines on stdout.',
  },
  {
    name: 'MEDGRID_TLS_CERT',
    default: '(unset: plain HTTP)',
    doc: 'PEM certificate for the HTTPS listener. Needs MEDGRID_TLS_KEY.',
  },
  { name: 'MEDGRID_TLS_KEY', default: '(unset)', doc: 'PEM private key for the HTTPS listener.' },
  {
    name: 'MEDGRID_TLS_CLIENT_CA',
    default: '(unset)',
    doc: 'PEM CA bundle; when set the HTTPS listener asks for a client certificate signed by it.',
  },
  {
    name: 'MEDGRID_TLS_REQUIRE_CLIENT_CERT',
    default: 'false',
    doc: 'true: refuse TLS handshakes without a valid client certificate.',
  },
  {
    name: 'MEDGRID_DOCTOR_APP_DIR',
    default: 'packages/doctor-app/dist',
    doc: 'Built doctor app, served at /.',
  },
  {
    name: 'MEDGRID_ADMIN_APP_DIR',
    default: 'packages/admin-app/dist',
    doc: 'Built admin app, served at /admin/.',
  },
  {
    name: 'MEDGRID_SHUTDOWN_TIMEOUT_MS',
    default: '10000',
    doc: 'How long a graceful shutdown may take before the process exits anyway.',
  },
] as const;

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function oneOf<T extends string>(env: Env, name: string, def: T, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function databaseUrl(env: Env): string | undefined {
  const raw = env.DATABASE_URL;
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL is not a valid URL (expected postgres://user:pass@host:port/db)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`DATABASE_URL must use postgres:// or postgresql://, got "${url.protocol}//"`);
  }
  if (!url.pathname || url.pathname === '/') throw new ConfigError('DATABASE_URL names no database');
  return raw;
}

/** Repository root, found from this file (dist/config/config.js) so defaults work from any cwd. */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../../../..');

export function loadConfig(env: Env = process.env): MedgridConfig {
  const tlsCert = env.MEDGRID_TLS_CERT || undefined;
  const tlsKey = env.MEDGRID_TLS_KEY || undefined;
  if (Boolean(tlsCert) !== Boolean(tlsKey)) {
    throw new ConfigError('MEDGRID_TLS_CERT and MEDGRID_TLS_KEY must be set together');
  }
  const clientCa = env.MEDGRID_TLS_CLIENT_CA || undefined;
  const requireClientCert = bool(env, 'MEDGRID_TLS_REQUIRE_CLIENT_CERT', false);
  if ((clientCa || requireClientCert) && !tlsCert) {
    throw new ConfigError('client certificates need TLS: set MEDGRID_TLS_CERT and MEDGRID_TLS_KEY');
  }
  if (requireClientCert && !clientCa) {
    throw new ConfigError('MEDGRID_TLS_REQUIRE_CLIENT_CERT needs MEDGRID_TLS_CLIENT_CA');
  }
  const ae = env.MEDGRID_GATEWAY_AE_TITLE || 'MEDGRID';
  if (!/^[\x20-\x5b\x5d-\x7e]{1,16}$/.test(ae) || ae.trim() === '') {
    throw new ConfigError('MEDGRID_GATEWAY_AE_TITLE must be 1-16 printable characters without backslash');
  }
  const fromRoot = (p: string) => path.resolve(REPO_ROOT, p);
  return {
    env: oneOf(env, 'MEDGRID_ENV', 'development', ['development', 'production', 'test'] as const),
    dataDir: path.resolve(env.MEDGRID_DATA_DIR || './.medgrid'),
    databaseUrl: databaseUrl(env),
    host: env.MEDGRID_HOST || '127.0.0.1',
    port: int(env, 'MEDGRID_PORT', 8080, 0, 65535),
    gatewayPort: int(env, 'MEDGRID_GATEWAY_PORT', 11112, 0, 65535),
    gatewayAeTitle: ae.trim(),
    logLevel: oneOf(env, 'MEDGRID_LOG_LEVEL', 'info', [
      'fatal',
      'error',
      'warn',
      'info',
      'debug',
      'trace',
      'silent',
    ] as const),
    tls: tlsCert
      ? { certFile: tlsCert, keyFile: tlsKey!, clientCaFile: clientCa, requireClientCert }
      : undefined,
    doctorAppDir: fromRoot(env.MEDGRID_DOCTOR_APP_DIR || 'packages/doctor-app/dist'),
    adminAppDir: fromRoot(env.MEDGRID_ADMIN_APP_DIR || 'packages/admin-app/dist'),
    shutdownTimeoutMs: int(env, 'MEDGRID_SHUTDOWN_TIMEOUT_MS', 10000, 100, 600000),
  };
}
