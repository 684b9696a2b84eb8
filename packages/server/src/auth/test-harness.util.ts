// Shared helpers for the identity/auth tests (not a test file itself).
import { webcrypto } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { FastifyInstance } from 'fastify';
import { CLI_ACTOR } from '../audit/audit.service.js';
import { DEVELOPMENT_CA_PASSPHRASE, loadConfig, type MedgridConfig } from '../config/config.js';
import { migrateUp, openOrm } from '../db/orm.js';
import { buildApp } from '../http/app.js';
import { CertificateAuthority, readPkcs12 } from '../identity/ca/index.js';
import { challengeMessage } from '../identity/challenge/index.js';
import { type EnrolInput, type Enrolled, enrol } from '../identity/enrolment.service.js';
import { IdentityRuntime, type IdentitySettings } from '../identity/identity.runtime.js';
import { createLogger } from '../logging/logger.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import type { AuthService } from './auth.service.js';

export interface Harness {
  db: TestDatabase;
  orm: MikroORM;
  dataDir: string;
  config: MedgridConfig;
  identity: IdentityRuntime;
  app: FastifyInstance;
  auth: AuthService;
  close(): Promise<void>;
}

/** A migrated throwaway database, a fast test CA (P-256, cheap KDF) and the app, not listening. */
export async function startHarness(
  opts: {
    env?: Record<string, string>;
    settings?: Partial<IdentitySettings>;
    clock?: () => Date;
    /** Listen on 127.0.0.1 over HTTPS with a server certificate from the test CA, asking for client certificates. */
    tls?: boolean;
    /** The CA is created as of this time (lets tests issue already-expired certificates). */
    caCreatedAt?: Date;
  } = {},
): Promise<Harness> {
  const db = await createTestDatabase('medgrid_test_id');
  const orm = await openOrm(db.url);
  await migrateUp(orm);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'medgrid-id-'));
  const caDir = path.join(dataDir, 'ca');
  const created = await CertificateAuthority.create({
    dir: caDir,
    passphrase: DEVELOPMENT_CA_PASSPHRASE,
    crlBaseUrl: 'https://127.0.0.1',
    keyAlgorithm: 'ecdsa-p256',
    kdfIterations: 10_000,
    ...(opts.caCreatedAt ? { clock: () => opts.caCreatedAt! } : {}),
  });
  const tlsEnv: Record<string, string> = {};
  if (opts.tls) {
    const server = await created.issueServerCertificate({ hostname: 'localhost' });
    await writeFile(path.join(dataDir, 'server.pem'), server.certificatePem + created.chainPem);
    await writeFile(path.join(dataDir, 'server.key'), server.privateKeyPem!, { mode: 0o600 });
    await writeFile(path.join(dataDir, 'client-ca.pem'), created.chainPem);
    tlsEnv.MEDGRID_TLS_CERT = path.join(dataDir, 'server.pem');
    tlsEnv.MEDGRID_TLS_KEY = path.join(dataDir, 'server.key');
    tlsEnv.MEDGRID_TLS_CLIENT_CA = path.join(dataDir, 'client-ca.pem');
  }
  const config = loadConfig({
    ...tlsEnv,
    DATABASE_URL: db.url,
    MEDGRID_DATA_DIR: dataDir,
    MEDGRID_LOG_LEVEL: 'silent',
    MEDGRID_ENV: 'test',
    MEDGRID_DOCTOR_APP_DIR: path.join(dataDir, 'no-app'),
    MEDGRID_ADMIN_APP_DIR: path.join(dataDir, 'no-app'),
    ...opts.env,
  });
  const ca = await CertificateAuthority.load({
    dir: caDir,
    passphrase: DEVELOPMENT_CA_PASSPHRASE,
    crlBaseUrl: 'https://127.0.0.1',
  });
  const identity = new IdentityRuntime(
    ca,
    // The suites sign in many times from one address; the rate-limit test sets its own limits.
    {
      ...IdentityRuntime.settingsFrom(config),
      signInRate: { perAddress: 100_000, perCertificate: 100_000 },
      ...opts.settings,
    },
    opts.clock,
    DEVELOPMENT_CA_PASSPHRASE,
  );
  const { app, auth } = await buildApp({
    config,
    orm,
    logger: createLogger({ level: 'silent', name: 'test' }),
    identity,
    lifecycleTimer: false,
  });
  await app.ready();
  if (opts.tls) await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    db,
    orm,
    dataDir,
    config,
    identity,
    app,
    auth,
    async close() {
      await app.close();
      await orm.close(true);
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestAccount extends Enrolled {
  keyPem: string;
  certPem: string;
}

export async function account(h: Harness, input: EnrolInput): Promise<TestAccount> {
  const e = await enrol(h.orm.em.fork(), h.identity, CLI_ACTOR, input);
  const p12 = await readPkcs12(e.pkcs12, e.password);
  return {
    ...e,
    keyPem: p12.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    certPem: e.certificate.pem,
  };
}

export function baseUrl(h: Harness): string {
  const addr = h.app.server.address();
  if (!addr || typeof addr !== 'object') throw new Error('not listening');
  return `https://127.0.0.1:${addr.port}`;
}

export interface HttpsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One HTTPS request to the harness (raw body), with the client's certificate when there is one. */
export function httpsRaw(
  h: Harness,
  url: string,
  creds: ClientCredentials | undefined,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(url, baseUrl(h)),
      {
        method: opts.method ?? 'GET',
        ca: h.identity.ca.chainPem,
        servername: 'localhost',
        agent: false,
        headers: opts.headers ?? {},
        ...(creds ? { key: creds.keyPem, cert: creds.certPem } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface GqlResult {
  status: number;
  data: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string; denied?: boolean } }[];
  setCookie?: string;
}

export async function gql(
  h: Harness,
  query: string,
  variables: Record<string, unknown> = {},
  cookie?: string,
): Promise<GqlResult> {
  const res = await h.app.inject({
    method: 'POST',
    url: '/graphql',
    payload: { query, variables },
    headers: cookie ? { cookie } : {},
  });
  const body = res.json();
  const sc = res.headers['set-cookie'];
  return {
    status: res.statusCode,
    data: body.data ?? null,
    errors: body.errors,
    setCookie: Array.isArray(sc) ? sc[0] : sc,
  };
}

/** Signs the challenge the way the browser does: WebCrypto, with the key from the CA-produced PKCS#12. */
export async function signChallenge(
  pkcs12: Buffer,
  password: string,
  nonceId: string,
  nonceB64url: string,
): Promise<string> {
  const p12 = await readPkcs12(pkcs12, password);
  const pkcs8 = p12.privateKey.export({ format: 'der', type: 'pkcs8' });
  const key = await webcrypto.subtle.importKey(
    'pkcs8',
    pkcs8,
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  );
  const sig = await webcrypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    key,
    challengeMessage(nonceId, Buffer.from(nonceB64url, 'base64url')),
  );
  return Buffer.from(sig).toString('base64url');
}

/** The full browser sign-in through the API; returns the `Cookie` header value. */
export async function signIn(h: Harness, a: Enrolled): Promise<string> {
  const ch = await gql(h, 'mutation { requestChallenge { nonceId nonce } }');
  const { nonceId, nonce } = (ch.data as { requestChallenge: { nonceId: string; nonce: string } })
    .requestChallenge;
  const signature = await signChallenge(a.pkcs12, a.password, nonceId, nonce);
  const r = await gql(
    h,
    'mutation($c: String!, $n: String!, $s: String!) { signIn(certificatePem: $c, nonceId: $n, signature: $s, algorithm: "ECDSA") { me { userId } } }',
    { c: a.certificate.pem, n: nonceId, s: signature },
  );
  if (r.errors || !r.setCookie) throw new Error(`sign-in failed: ${JSON.stringify(r.errors)}`);
  return r.setCookie.split(';')[0]!;
}

export interface ClientCredentials {
  keyPem: string;
  certPem: string;
}

export interface HttpsResult {
  status: number;
  body: string;
  json(): { data?: Record<string, unknown> | null; errors?: GqlResult['errors'] };
}

/** A real TLS request (Node https), optionally with a client certificate; trusts only the test CA. */
export async function httpsRequest(
  h: Harness,
  urlPath: string,
  opts: {
    method?: string;
    body?: string;
    creds?: ClientCredentials | undefined;
    headers?: Record<string, string>;
  } = {},
): Promise<HttpsResult> {
  const r = await httpsRaw(h, urlPath, opts.creds, {
    ...(opts.method ? { method: opts.method } : {}),
    headers: { 'content-type': 'application/json', ...opts.headers },
    ...(opts.body !== undefined ? { body: Buffer.from(opts.body) } : {}),
  });
  const body = r.body.toString('utf8');
  return { status: r.status, body, json: () => JSON.parse(body) };
}

export async function httpsGql(
  h: Harness,
  query: string,
  variables: Record<string, unknown> = {},
  creds?: ClientCredentials,
): Promise<GqlResult> {
  const r = await httpsRequest(h, '/graphql', {
    method: 'POST',
    body: JSON.stringify({ query, variables }),
    creds,
  });
  const b = r.json();
  return { status: r.status, data: b.data ?? null, ...(b.errors ? { errors: b.errors } : {}) };
}
