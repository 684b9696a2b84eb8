// Shared helpers for the CA tests (not a test file itself).
import './crypto-provider.util.js';
import { spawn } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { type CaOptions, CertificateAuthority } from './ca.service.js';
import type { X509CryptoKey } from './crypto-provider.util.js';

export const TEST_PASSPHRASE = 'correct horse battery staple';
export const TEST_P12_PASSWORD = 'p12-password-for-tests';

const dirs: string[] = [];

export async function tempDir(prefix = 'medgrid-ca-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export async function cleanupTempDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

export async function makeCa(overrides: Partial<CaOptions> = {}): Promise<CertificateAuthority> {
  return CertificateAuthority.create({
    dir: join(await tempDir(), 'ca'),
    passphrase: TEST_PASSPHRASE,
    crlBaseUrl: 'https://medgrid.test:8443',
    kdfIterations: 20_000,
    ...overrides,
  });
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

/** Async so that in-process servers keep serving while the child runs. */
export function exec(
  cmd: string,
  args: readonly string[],
  input?: string | Buffer,
  timeoutMs = 20_000,
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({
        code: code ?? -1,
        stdout: stdoutBytes.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        stdoutBytes,
      });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

export type WebKeyKind = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-1024';

const keyCache = new Map<WebKeyKind, Promise<webcrypto.CryptoKeyPair>>();

/** WebCrypto key pairs as a browser would make them; RSA ones are cached because generation is slow. */
export function webKeyPair(kind: WebKeyKind, fresh = false): Promise<webcrypto.CryptoKeyPair> {
  const make = () => {
    if (kind.startsWith('ec')) {
      return webcrypto.subtle.generateKey(
        { name: 'ECDSA', namedCurve: kind === 'ec-p256' ? 'P-256' : 'P-384' },
        true,
        ['sign', 'verify'],
      ) as Promise<webcrypto.CryptoKeyPair>;
    }
    return webcrypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: kind === 'rsa-2048' ? 2048 : 1024,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      true,
      ['sign', 'verify'],
    ) as Promise<webcrypto.CryptoKeyPair>;
  };
  if (fresh) return make();
  let p = keyCache.get(kind);
  if (!p) {
    p = make();
    keyCache.set(kind, p);
  }
  return p;
}

export async function webCsr(
  kind: WebKeyKind,
  subject = 'CN=Mallory Admin, O=Some Other Org',
  fresh = false,
): Promise<{ pem: string; der: Buffer; keys: webcrypto.CryptoKeyPair }> {
  const keys = await webKeyPair(kind, fresh);
  const signingAlgorithm =
    kind === 'ec-p384'
      ? { name: 'ECDSA', hash: 'SHA-384' }
      : kind === 'ec-p256'
        ? { name: 'ECDSA', hash: 'SHA-256' }
        : { name: 'RSASSA-PKCS1-v1_5' };
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject,
    keys: keys as unknown as { privateKey: X509CryptoKey; publicKey: X509CryptoKey },
    signingAlgorithm,
  });
  return { pem: csr.toString('pem'), der: Buffer.from(csr.rawData), keys };
}

export interface OpensslClient {
  keyPath: string;
  certPath: string;
  caPath: string;
}

/** A CA and client certificate made entirely by the openssl CLI, outside MedGrid. */
export async function opensslForeignClient(dir: string): Promise<OpensslClient> {
  const p = (f: string) => join(dir, f);
  const run = async (args: string[]) => {
    const r = await exec('openssl', args);
    if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  await run([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    p('foreign-ca.key'),
    '-out',
    p('foreign-ca.pem'),
    '-subj',
    '/CN=Foreign CA',
    '-days',
    '30',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    p('foreign.key'),
    '-out',
    p('foreign.csr'),
    '-subj',
    '/DC=ua/DC=medgrid/O=Clinic/CN=Intruder',
  ]);
  await writeFile(
    p('foreign.ext'),
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n',
  );
  await run([
    'x509',
    '-req',
    '-in',
    p('foreign.csr'),
    '-CA',
    p('foreign-ca.pem'),
    '-CAkey',
    p('foreign-ca.key'),
    '-set_serial',
    '4242',
    '-out',
    p('foreign.pem'),
    '-days',
    '30',
    '-extfile',
    p('foreign.ext'),
  ]);
  return { keyPath: p('foreign.key'), certPath: p('foreign.pem'), caPath: p('foreign-ca.pem') };
}
