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
  /**
   * Port of the second, HTTPS-only listener (server certificate from the MedGrid CA, client certificates
   * requested) that runs next to the plain-HTTP one; undefined when off or when the main listener is HTTPS.
   */
  tlsPort?: number;
  doctorAppDir: string;
  adminAppDir: string;
  shutdownTimeoutMs: number;
  identity: IdentityConfig;
  studies: StudiesConfig;
}

export interface StudiesConfig {
  /** Key-encryption key (32 bytes, hex or base64); undefined: generated once into `<dataDir>/secrets/kek`. */
  kek?: string;
  /** Previous KEKs, still accepted for unwrapping during a rotation. */
  kekPrevious: string[];
  /** Largest STOW-RS / upload request body, in bytes. */
  maxUploadBytes: number;
  /** Per STOW-RS request, bytes of parts kept in memory before they go to sealed files. */
  stowMemoryBytes: number;
  /** Queue a `store` job with the storage worker for each new object (off: objects stay in the spool). */
  storeJobs: boolean;
  /** Replication policy for new objects (MEDGRID_COPIES). */
  copies: number;
}

export interface IdentityConfig {
  /** Protects the CA keys under `<dataDir>/ca`. */
  caPassphrase: string;
  /** Base URL of this server as clients see it; certificates name `<publicUrl>/ca/crl.pem` as CRL. */
  publicUrl: string;
  membershipTermDays: number;
  membershipGraceDays: number;
  sessionTtlSeconds: number;
  /** Serve HTTPS with a server certificate from the MedGrid CA and accept client certificates (mTLS). */
  tlsFromCa: boolean;
  /** Extra DNS names for the CA-issued server certificate (MEDGRID_TLS_DNS_NAMES). */
  tlsDnsNames: string[];
  /** Signed-challenge sign-in: challenges per minute per client address; challenges and attempts per certificate. */
  signInRate: { perAddress: number; perCertificate: number };
}

/** Used only when MEDGRID_ENV is development or test; production refuses to start without MEDGRID_CA_PASSPHRASE. */
export const DEVELOPMENT_CA_PASSPHRASE = 'medgrid-development-ca-passphrase';

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
    name: 'MEDGRID_TLS_PORT',
    default: '8443',
    doc: 'HTTPS (mTLS) listener next to the plain-HTTP one: server certificate from the MedGrid CA (MEDGRID_DATA_DIR/tls), client certificates requested and verified (chain, validity, CRL). The path for the gateway, curl, davix and third parties. `off` disables it; not used when the main listener is HTTPS (MEDGRID_TLS_CERT or MEDGRID_TLS_FROM_CA).',
  },
  {
    name: 'MEDGRID_TLS_DNS_NAMES',
    default: '(none)',
    doc: 'Comma-separated extra DNS names for the server certificate the MedGrid CA issues (e.g. `server` in docker compose); `localhost` is always named.',
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
  {
    name: 'MEDGRID_DEID_SECRET',
    default: '(generated once into MEDGRID_DATA_DIR/secrets/deid-secret)',
    doc: 'Deployment secret keying the de-identification HMACs (UID remapping, pseudonyms). Never change it once data exists.',
  },
  {
    name: 'MEDGRID_CA_PASSPHRASE',
    default: '(development only: a fixed development passphrase)',
    doc: 'Passphrase (12+ characters) encrypting the CA keys in MEDGRID_DATA_DIR/ca. Required in production.',
  },
  {
    name: 'MEDGRID_PUBLIC_URL',
    default: 'http://MEDGRID_HOST:MEDGRID_PORT',
    doc: 'Base URL clients use to reach the server; certificates carry <url>/ca/crl.pem as CRL distribution point.',
  },
  {
    name: 'MEDGRID_MEMBERSHIP_TERM_DAYS',
    default: '365',
    doc: 'VO membership term; an approved membership expires this many days after activation.',
  },
  {
    name: 'MEDGRID_MEMBERSHIP_GRACE_DAYS',
    default: '30',
    doc: 'Grace period after the term during which the member keeps access before the membership expires.',
  },
  {
    name: 'MEDGRID_SESSION_TTL_SECONDS',
    default: '3600',
    doc: 'Lifetime of a browser session from a signed-challenge sign-in (60-43200).',
  },
  {
    name: 'MEDGRID_TLS_FROM_CA',
    default: 'false',
    doc: 'true: serve HTTPS with a server certificate from the MedGrid CA (kept in MEDGRID_DATA_DIR/tls) and accept MedGrid client certificates (mTLS). Ignored when MEDGRID_TLS_CERT is set.',
  },
  {
    name: 'MEDGRID_SIGNIN_RATE_PER_ADDRESS',
    default: '60',
    doc: 'Signed-challenge sign-in: requestChallenge calls allowed per minute from one client address (bursts up to the same number); more get RATE_LIMITED with retryAfterSeconds (HTTP 429, Retry-After).',
  },
  {
    name: 'MEDGRID_SIGNIN_RATE_PER_CERTIFICATE',
    default: '10',
    doc: 'Signed-challenge sign-in: challenges (with a TLS client certificate) and signIn attempts allowed per minute for one certificate.',
  },
  {
    name: 'MEDGRID_KEK',
    default: '(generated once into MEDGRID_DATA_DIR/secrets/kek)',
    doc: 'Key-encryption key (32 bytes as 64 hex digits or base64) wrapping the per-study data keys that encrypt patient identity at rest. See packages/server/README.md for rotation.',
  },
  {
    name: 'MEDGRID_KEK_PREVIOUS',
    default: '(unset)',
    doc: 'Comma-separated previous key-encryption keys, used only to unwrap data keys during a rotation (`medgrid keys rewrap`).',
  },
  {
    name: 'MEDGRID_STORE_JOBS',
    default: 'true (false when MEDGRID_ENV=test)',
    doc: 'Queue a store job with the storage worker for every new de-identified object; false keeps objects in the spool only.',
  },
  {
    name: 'MEDGRID_COPIES',
    default: '1 with the embedded local SE; 2 when MEDGRID_SE_URLS lists two or more SEs',
    doc: 'Replication policy: verified copies on distinct SEs for every new object. The spool file is removed once they exist; until then it stays (a policy the SEs cannot meet keeps it, and the admin app shows the object under-replicated).',
  },
  {
    name: 'MEDGRID_STOW_MEMORY_BYTES',
    default: '33554432',
    doc: 'How much of one STOW-RS request may wait in memory; the rest of its parts wait on disk, sealed (AES-256-GCM, key in memory only).',
  },
  {
    name: 'MEDGRID_MAX_UPLOAD_BYTES',
    default: '2147483648',
    doc: 'Largest STOW-RS request body accepted, in bytes.',
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
  const environment = oneOf(env, 'MEDGRID_ENV', 'development', [
    'development',
    'production',
    'test',
  ] as const);
  const host = env.MEDGRID_HOST || '127.0.0.1';
  const port = int(env, 'MEDGRID_PORT', 8080, 0, 65535);
  const tlsFromCa = bool(env, 'MEDGRID_TLS_FROM_CA', false);
  const tlsPort =
    tlsCert || tlsFromCa || /^off$/i.test(env.MEDGRID_TLS_PORT ?? '')
      ? undefined
      : int(env, 'MEDGRID_TLS_PORT', 8443, 0, 65535);
  if (tlsPort !== undefined && tlsPort !== 0 && tlsPort === port) {
    throw new ConfigError(`MEDGRID_TLS_PORT must differ from MEDGRID_PORT (${port})`);
  }
  return {
    env: environment,
    dataDir: path.resolve(env.MEDGRID_DATA_DIR || './.medgrid'),
    databaseUrl: databaseUrl(env),
    host,
    port,
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
    ...(tlsPort !== undefined ? { tlsPort } : {}),
    doctorAppDir: fromRoot(env.MEDGRID_DOCTOR_APP_DIR || 'packages/doctor-app/dist'),
    adminAppDir: fromRoot(env.MEDGRID_ADMIN_APP_DIR || 'packages/admin-app/dist'),
    shutdownTimeoutMs: int(env, 'MEDGRID_SHUTDOWN_TIMEOUT_MS', 10000, 100, 600000),
    identity: {
      caPassphrase: caPassphrase(env, environment),
      publicUrl: publicUrl(env, tlsCert || tlsFromCa ? 'https' : 'http', host, port),
      membershipTermDays: int(env, 'MEDGRID_MEMBERSHIP_TERM_DAYS', 365, 1, 3650),
      membershipGraceDays: int(env, 'MEDGRID_MEMBERSHIP_GRACE_DAYS', 30, 0, 365),
      sessionTtlSeconds: int(env, 'MEDGRID_SESSION_TTL_SECONDS', 3600, 60, 43200),
      tlsFromCa,
      tlsDnsNames: (env.MEDGRID_TLS_DNS_NAMES ?? '')
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean),
      signInRate: {
        perAddress: int(env, 'MEDGRID_SIGNIN_RATE_PER_ADDRESS', 60, 1, 100000),
        perCertificate: int(env, 'MEDGRID_SIGNIN_RATE_PER_CERTIFICATE', 10, 1, 100000),
      },
    },
    studies: {
      ...(env.MEDGRID_KEK ? { kek: keyVar(env.MEDGRID_KEK, 'MEDGRID_KEK') } : {}),
      kekPrevious: (env.MEDGRID_KEK_PREVIOUS ?? '')
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k !== '')
        .map((k) => keyVar(k, 'MEDGRID_KEK_PREVIOUS')),
      maxUploadBytes: int(env, 'MEDGRID_MAX_UPLOAD_BYTES', 2 ** 31, 1024, 2 ** 40),
      stowMemoryBytes: int(env, 'MEDGRID_STOW_MEMORY_BYTES', 32 * 2 ** 20, 0, 2 ** 32),
      storeJobs: bool(env, 'MEDGRID_STORE_JOBS', environment !== 'test'),
      copies: int(env, 'MEDGRID_COPIES', defaultCopies(env), 1, 10),
    },
  };
}

/** As many copies as there are SEs, up to two: the embedded default has one local-directory SE. */
function defaultCopies(env: Env): number {
  const ses = (env.MEDGRID_SE_URLS ?? '').split(',').filter((x) => x.trim() !== '').length;
  return Math.min(2, Math.max(1, ses));
}

function keyVar(raw: string, name: string): string {
  const s = raw.trim();
  const ok = /^[0-9a-fA-F]{64}$/.test(s) || Buffer.from(s, 'base64').length === 32;
  if (!ok) throw new ConfigError(`${name} must be 32 bytes: 64 hex digits or base64`);
  return s;
}

function caPassphrase(env: Env, environment: Environment): string {
  const raw = env.MEDGRID_CA_PASSPHRASE;
  if (raw === undefined || raw === '') {
    if (environment === 'production') {
      throw new ConfigError('MEDGRID_CA_PASSPHRASE is required in production (12 or more characters)');
    }
    return DEVELOPMENT_CA_PASSPHRASE;
  }
  if (raw.length < 12) throw new ConfigError('MEDGRID_CA_PASSPHRASE must have 12 or more characters');
  return raw;
}

function publicUrl(env: Env, scheme: string, host: string, port: number): string {
  const raw = env.MEDGRID_PUBLIC_URL;
  if (raw === undefined || raw === '') {
    const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    return `${scheme}://${h}:${port}`;
  }
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError('MEDGRID_PUBLIC_URL is not a valid URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ConfigError('MEDGRID_PUBLIC_URL must be http(s)');
  return u.origin + u.pathname.replace(/\/+$/, '');
}
