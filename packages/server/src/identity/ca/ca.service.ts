import './crypto-provider.util.js';
import { createHash, createPublicKey, generateKeyPair, type KeyObject, randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as x509 from '@peculiar/x509';
import { CaError, CaIntegrityError, CaStoreError, CsrError, ProfileError } from './ca.errors.js';
import {
  type CrlOptions,
  createCrl,
  crlNumberOf,
  crlToPem,
  type GeneratedCrl,
  parseCrl,
  type RevokedEntry,
} from './crl.service.js';
import type { X509CryptoKey, X509SigningAlgorithm } from './crypto-provider.util.js';
import {
  caDn,
  checkHostname,
  type DnComponents,
  nameToComponents,
  personDn,
  SERVICE_OU,
  serverDn,
  serviceDn,
  slashForm,
  toX509Name,
} from './dn.util.js';
import { checkSubscriberKey, type SubscriberKeyKind } from './key-policy.util.js';
import {
  checkPassphrase,
  DEFAULT_KDF_ITERATIONS,
  decryptPrivateKey,
  encryptPrivateKey,
  type SigningKey,
  toSigningKey,
} from './key-store.util.js';
import { type PemOrDer, pemOrDerToDer, toPem } from './pem.util.js';
import { createPkcs12 } from './pkcs12.util.js';
import { CertificateVerifier, type VerifyOptions, type VerifyResult } from './verify.service.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export type CaKeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-3072' | 'rsa-4096';
export type GeneratedKeyType = 'ecdsa-p256' | 'rsa-2048' | 'rsa-3072';
export type CertificateProfile = 'client' | 'service' | 'server';

export interface CaOptions {
  /** Directory holding the CA files, e.g. `<MEDGRID_DATA_DIR>/ca`. */
  dir: string;
  /** Protects the CA private keys (>= 12 characters). */
  passphrase: string;
  /** Public base URL of the server; certificates point to `<crlBaseUrl><crlPath>`. */
  crlBaseUrl: string;
  /** Default `/ca/crl.pem`. */
  crlPath?: string;
  /** Only used by create(). Default ecdsa-p384. */
  keyAlgorithm?: CaKeyAlgorithm;
  /** Only used by create(). PBKDF2 iterations for the key files. */
  kdfIterations?: number;
  /** Only used by create(). Defaults 20 and 10 years. */
  rootValidityYears?: number;
  issuingValidityYears?: number;
  /** Injected clock (tests). */
  clock?: () => Date;
}

export interface IssueParams {
  /** `client` (a person) or `service` (a software account such as a gateway; adds OU=service). */
  profile?: 'client' | 'service';
  facility: string;
  commonName: string;
  /** Default 365; anything ending after 13 calendar months is refused. */
  validityDays?: number;
}

export interface ServerCertificateParams {
  /** CN; default `localhost`. */
  hostname?: string;
  /** Extra DNS SANs; `localhost` and the hostname are always included. */
  dnsNames?: readonly string[];
  /** Extra IP SANs; 127.0.0.1 and ::1 are always included. */
  ipAddresses?: readonly string[];
  validityDays?: number;
}

export interface IssuedCertificate {
  profile: CertificateProfile;
  certificatePem: string;
  certificateDer: Buffer;
  /** Issuing CA then root, PEM. */
  chainPem: string;
  /** Lowercase hex, no leading zero octets (see normaliseSerialHex). */
  serialHex: string;
  /** `/DC=ua/DC=medgrid/O=.../CN=...` */
  subject: string;
  notBefore: Date;
  notAfter: Date;
  fingerprintSha256: string;
  keyType: SubscriberKeyKind;
}

export interface IssuedWithKey extends IssuedCertificate {
  /** PKCS#12 (AES-256, SHA-256 MAC) with key, certificate and chain. */
  pkcs12: Buffer;
}

export interface IssuedServerCertificate extends IssuedCertificate {
  /** Unencrypted PKCS#8 PEM when the key was generated here; store it 0600. */
  privateKeyPem?: string;
}

export interface RenewOptions {
  /** New key via CSR; omitted = re-certify the existing public key. */
  csr?: PemOrDer;
  validityDays?: number;
}

const FILES = {
  rootCert: 'root-ca.cert.pem',
  rootKey: 'root-ca.key.pem',
  issuingCert: 'issuing-ca.cert.pem',
  issuingKey: 'issuing-ca.key.pem',
  chain: 'ca-chain.pem',
  meta: 'ca.json',
} as const;

interface CaMeta {
  format: 'medgrid-ca/1';
  createdAt: string;
  keyAlgorithm: CaKeyAlgorithm;
  root: { serialHex: string; subject: string; fingerprintSha256: string };
  issuing: { serialHex: string; subject: string; fingerprintSha256: string };
}

export const DEFAULT_VALIDITY_DAYS = 365;
export const MAX_VALIDITY_MONTHS = 13;
const BACKDATE_MS = 5 * 60 * 1000; // tolerate client clock skew
const DAY_MS = 24 * 3600 * 1000;
const MAX_CSR_BYTES = 64 * 1024;

const OID_EKU_CLIENT = '1.3.6.1.5.5.7.3.2';
const OID_EKU_SERVER = '1.3.6.1.5.5.7.3.1';

/** Positive 16-octet serial: 127 random bits, top bit clear so DER needs no padding octet. */
export function randomSerialHex(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x40;
  return b.toString('hex');
}

export function fingerprintSha256(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

export function serialFromX509(hex: string): string {
  let s = hex.toLowerCase();
  while (s.length > 2 && s.startsWith('00')) s = s.slice(2);
  return s;
}

function addUtcMonths(d: Date, months: number): Date {
  const r = new Date(d.getTime());
  r.setUTCMonth(r.getUTCMonth() + months);
  return r;
}

function addUtcYears(d: Date, years: number): Date {
  const r = new Date(d.getTime());
  r.setUTCFullYear(r.getUTCFullYear() + years);
  return r;
}

async function generateCaKey(alg: CaKeyAlgorithm): Promise<KeyObject> {
  switch (alg) {
    case 'ecdsa-p256':
      return (await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' })).privateKey;
    case 'ecdsa-p384':
      return (await generateKeyPairAsync('ec', { namedCurve: 'secp384r1' })).privateKey;
    case 'rsa-3072':
      return (await generateKeyPairAsync('rsa', { modulusLength: 3072, publicExponent: 65537 })).privateKey;
    case 'rsa-4096':
      return (await generateKeyPairAsync('rsa', { modulusLength: 4096, publicExponent: 65537 })).privateKey;
    default:
      throw new ProfileError(`unknown CA key algorithm ${String(alg)}`);
  }
}

export async function generateSubscriberKey(type: GeneratedKeyType = 'ecdsa-p256'): Promise<KeyObject> {
  switch (type) {
    case 'ecdsa-p256':
      return (await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' })).privateKey;
    case 'rsa-2048':
      return (await generateKeyPairAsync('rsa', { modulusLength: 2048, publicExponent: 65537 })).privateKey;
    case 'rsa-3072':
      return (await generateKeyPairAsync('rsa', { modulusLength: 3072, publicExponent: 65537 })).privateKey;
    default:
      throw new ProfileError(`unknown key type ${String(type)}`);
  }
}

function spkiOf(key: KeyObject): Buffer {
  return createPublicKey(key).export({ format: 'der', type: 'spki' });
}

const ROOT_CRL_FILE = 'root-ca.crl.pem';

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** Exclusive create: never overwrites an existing CA file. */
async function writeNew(path: string, data: string, mode: number): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'wx', mode);
  } catch (cause) {
    // EEXIST here means another process is creating the CA at the same moment.
    const exists = (cause as NodeJS.ErrnoException).code === 'EEXIST';
    throw new CaStoreError(
      exists ? `${path} already exists; refusing to overwrite` : `cannot create ${path}`,
      { cause },
    );
  }
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Parses and checks a PKCS#10 request: proof of possession (signature) and key policy. */
export async function parseCsr(
  csr: PemOrDer,
): Promise<{ request: x509.Pkcs10CertificateRequest; spki: Buffer }> {
  const size = typeof csr === 'string' ? csr.length : csr.byteLength;
  if (size > MAX_CSR_BYTES) throw new CsrError('CSR too large');
  const der = pemOrDerToDer(csr, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
  if (!der)
    throw new CsrError('no PKCS#10 certificate request found (expected DER or PEM "CERTIFICATE REQUEST")');
  let request: x509.Pkcs10CertificateRequest;
  try {
    request = new x509.Pkcs10CertificateRequest(der);
  } catch (cause) {
    throw new CsrError('CSR cannot be parsed', { cause });
  }
  const spki = Buffer.from(request.publicKey.rawData);
  checkSubscriberKey(spki);
  let valid = false;
  try {
    valid = await request.verify();
  } catch (cause) {
    throw new CsrError('CSR signature cannot be verified', { cause });
  }
  if (!valid) throw new CsrError('CSR signature is invalid');
  return { request, spki };
}

interface LeafSpec {
  profile: CertificateProfile;
  dn: DnComponents;
  spki: Buffer;
  validityDays?: number;
  san?: x509.JsonGeneralName[];
}

/**
 * Root and issuing CA on disk. Only the issuing key is decrypted by load(); the root key is needed once,
 * at creation, and can then be moved offline.
 */
export class CertificateAuthority {
  readonly dir: string;
  readonly rootCertificate: x509.X509Certificate;
  readonly issuingCertificate: x509.X509Certificate;
  readonly rootCertificatePem: string;
  readonly issuingCertificatePem: string;
  /** Issuing CA then root. Use as `ca` for Node TLS and `-CAfile` for OpenSSL. */
  readonly chainPem: string;
  readonly crlUrl: string;
  private readonly signingKey: SigningKey;
  private readonly clock: () => Date;

  private constructor(
    dir: string,
    root: x509.X509Certificate,
    issuing: x509.X509Certificate,
    signingKey: SigningKey,
    crlUrl: string,
    clock: () => Date,
  ) {
    this.dir = dir;
    this.rootCertificate = root;
    this.issuingCertificate = issuing;
    this.rootCertificatePem = toPem(root.rawData, 'CERTIFICATE');
    this.issuingCertificatePem = toPem(issuing.rawData, 'CERTIFICATE');
    this.chainPem = this.issuingCertificatePem + this.rootCertificatePem;
    this.signingKey = signingKey;
    this.crlUrl = crlUrl;
    this.clock = clock;
  }

  static async isInitialised(dir: string): Promise<boolean> {
    return exists(join(dir, FILES.meta));
  }

  /** Loads the CA if `ca.json` exists, otherwise creates it. */
  static async open(options: CaOptions): Promise<CertificateAuthority> {
    return (await CertificateAuthority.isInitialised(options.dir))
      ? CertificateAuthority.load(options)
      : CertificateAuthority.create(options);
  }

  /** Creates root and issuing CA. Refuses if any CA file already exists in `dir`. */
  static async create(options: CaOptions): Promise<CertificateAuthority> {
    checkPassphrase(options.passphrase, 'CA passphrase');
    const crlUrl = CertificateAuthority.crlUrlFrom(options);
    const clock = options.clock ?? (() => new Date());
    const alg = options.keyAlgorithm ?? 'ecdsa-p384';
    const iterations = options.kdfIterations ?? DEFAULT_KDF_ITERATIONS;
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    for (const f of Object.values(FILES)) {
      if (await exists(join(options.dir, f))) {
        throw new CaStoreError(
          `${join(options.dir, f)} already exists; refusing to overwrite an existing CA`,
        );
      }
    }

    const now = clock();
    const notBefore = new Date(now.getTime() - BACKDATE_MS);
    const rootKeyObj = await generateCaKey(alg);
    const issuingKeyObj = await generateCaKey(alg);
    const rootKey = await toSigningKey(rootKeyObj);
    const issuingKey = await toSigningKey(issuingKeyObj);
    const rootSpki = spkiOf(rootKeyObj);
    const issuingSpki = spkiOf(issuingKeyObj);
    const rootName = toX509Name(caDn('MedGrid Root CA'));
    const issuingName = toX509Name(caDn('MedGrid Issuing CA 1'));
    const rootSki = await x509.SubjectKeyIdentifierExtension.create(rootSpki);
    const issuingSki = await x509.SubjectKeyIdentifierExtension.create(issuingSpki);
    const caUsage = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;

    const root = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerialHex(),
      subject: rootName,
      issuer: rootName,
      notBefore,
      notAfter: addUtcYears(now, options.rootValidityYears ?? 20),
      publicKey: rootSpki,
      signingKey: rootKey.key as unknown as X509CryptoKey,
      signingAlgorithm: rootKey.algorithm as X509SigningAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(caUsage, true),
        rootSki,
        new x509.AuthorityKeyIdentifierExtension(rootSki.keyId),
      ],
    });
    const issuing = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerialHex(),
      subject: issuingName,
      issuer: rootName,
      notBefore,
      notAfter: addUtcYears(now, options.issuingValidityYears ?? 10),
      publicKey: issuingSpki,
      signingKey: rootKey.key as unknown as X509CryptoKey,
      signingAlgorithm: rootKey.algorithm as X509SigningAlgorithm,
      extensions: [
        // pathLen 0: the issuing CA can only sign end-entity certificates.
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(caUsage, true),
        issuingSki,
        new x509.AuthorityKeyIdentifierExtension(rootSki.keyId),
      ],
    });

    const [rootKeyPem, issuingKeyPem] = await Promise.all([
      encryptPrivateKey(rootKeyObj, options.passphrase, iterations),
      encryptPrivateKey(issuingKeyObj, options.passphrase, iterations),
    ]);
    const rootPem = toPem(root.rawData, 'CERTIFICATE');
    const issuingPem = toPem(issuing.rawData, 'CERTIFICATE');
    const meta: CaMeta = {
      format: 'medgrid-ca/1',
      createdAt: now.toISOString(),
      keyAlgorithm: alg,
      root: {
        serialHex: serialFromX509(root.serialNumber),
        subject: slashForm(caDn('MedGrid Root CA')),
        fingerprintSha256: fingerprintSha256(new Uint8Array(root.rawData)),
      },
      issuing: {
        serialHex: serialFromX509(issuing.serialNumber),
        subject: slashForm(caDn('MedGrid Issuing CA 1')),
        fingerprintSha256: fingerprintSha256(new Uint8Array(issuing.rawData)),
      },
    };
    const dir = options.dir;
    await writeNew(join(dir, FILES.rootKey), rootKeyPem, 0o600);
    await writeNew(join(dir, FILES.issuingKey), issuingKeyPem, 0o600);
    await writeNew(join(dir, FILES.rootCert), rootPem, 0o644);
    await writeNew(join(dir, FILES.issuingCert), issuingPem, 0o644);
    await writeNew(join(dir, FILES.chain), issuingPem + rootPem, 0o644);
    // Written last: its presence marks a complete CA.
    await writeNew(join(dir, FILES.meta), `${JSON.stringify(meta, null, 2)}\n`, 0o644);
    return new CertificateAuthority(dir, root, issuing, issuingKey, crlUrl, clock);
  }

  /** Loads an existing CA; throws CaPassphraseError on a wrong passphrase. */
  static async load(options: CaOptions): Promise<CertificateAuthority> {
    const crlUrl = CertificateAuthority.crlUrlFrom(options);
    const dir = options.dir;
    if (!(await exists(join(dir, FILES.meta)))) {
      const partial = (await Promise.all(Object.values(FILES).map((f) => exists(join(dir, f))))).some(
        Boolean,
      );
      throw new CaStoreError(
        partial
          ? `CA directory ${dir} is incomplete (no ${FILES.meta}); an earlier creation was interrupted`
          : `no CA in ${dir}`,
      );
    }
    const read = async (f: string) => {
      try {
        return await readFile(join(dir, f), 'utf8');
      } catch (cause) {
        throw new CaStoreError(`cannot read ${join(dir, f)}`, { cause });
      }
    };
    const parseCert = (pem: string, what: string) => {
      try {
        return new x509.X509Certificate(pem);
      } catch (cause) {
        throw new CaIntegrityError(`${what} certificate cannot be parsed`, { cause });
      }
    };
    const root = parseCert(await read(FILES.rootCert), 'root CA');
    const issuing = parseCert(await read(FILES.issuingCert), 'issuing CA');
    if (
      !(await root.verify({ signatureOnly: true })) ||
      !(await issuing.verify({ publicKey: root, signatureOnly: true }))
    ) {
      throw new CaIntegrityError('CA certificates do not form a valid chain');
    }
    const keyObj = decryptPrivateKey(await read(FILES.issuingKey), options.passphrase, 'issuing CA key');
    if (!spkiOf(keyObj).equals(Buffer.from(issuing.publicKey.rawData))) {
      throw new CaIntegrityError('issuing CA key does not match the issuing CA certificate');
    }
    return new CertificateAuthority(
      dir,
      root,
      issuing,
      await toSigningKey(keyObj),
      crlUrl,
      options.clock ?? (() => new Date()),
    );
  }

  private async unlockRootKey(passphrase: string): Promise<SigningKey> {
    let pem: string;
    try {
      pem = await readFile(join(this.dir, FILES.rootKey), 'utf8');
    } catch (cause) {
      throw new CaStoreError(`root CA key is not in ${this.dir} (moved offline?)`, { cause });
    }
    const key = decryptPrivateKey(pem, passphrase, 'root CA key');
    if (!spkiOf(key).equals(Buffer.from(this.rootCertificate.publicKey.rawData))) {
      throw new CaIntegrityError('root CA key does not match the root CA certificate');
    }
    return toSigningKey(key);
  }

  /** Checks that the root key file decrypts with the passphrase and matches the root certificate. */
  async checkRootKey(passphrase: string): Promise<void> {
    await this.unlockRootKey(passphrase);
  }

  /**
   * CRL signed by the root, covering the issuing CA (normally empty). Node's TLS `crl` option turns on
   * OpenSSL's CRL_CHECK_ALL, which needs a current CRL for every CA in the chain, so include this one too.
   * The root key is decrypted for this call only.
   */
  async generateRootCrl(
    passphrase: string,
    entries: readonly RevokedEntry[],
    options: CrlOptions,
  ): Promise<GeneratedCrl> {
    const signingKey = await this.unlockRootKey(passphrase);
    const opts: CrlOptions = { ...options };
    if (!opts.thisUpdate) opts.thisUpdate = this.clock();
    return createCrl({ certificate: this.rootCertificate, signingKey }, entries, opts);
  }

  /**
   * The root's CRL as published (`root-ca.crl.pem` beside the CA files), re-signed when missing, unreadable or
   * within `refreshBeforeMs` of its nextUpdate. Clients that check every CA in the chain (openssl
   * `-crl_check_all`, XRootD's `crl:3`) need it next to the issuing CA's CRL. The root revokes nothing here, so
   * it lives long (`validityMs`, default 365 days) and the root key is decrypted only to re-sign.
   */
  async ensureRootCrl(
    passphrase: string,
    options: { validityMs?: number; refreshBeforeMs?: number } = {},
  ): Promise<GeneratedCrl> {
    const file = join(this.dir, ROOT_CRL_FILE);
    const now = this.clock();
    let previousNumber = 0n;
    const pem = await readFile(file, 'utf8').catch(() => null);
    if (pem !== null) {
      try {
        const crl = parseCrl(pem);
        previousNumber = crlNumberOf(crl) ?? 0n;
        const nextUpdate = crl.nextUpdate;
        const fresh =
          nextUpdate !== undefined &&
          nextUpdate.getTime() - now.getTime() > (options.refreshBeforeMs ?? 30 * DAY_MS) &&
          (await crl.verify({ publicKey: this.rootCertificate.publicKey }));
        if (fresh) {
          const der = Buffer.from(crl.rawData);
          return {
            der,
            pem: crlToPem(der),
            crlNumber: previousNumber,
            thisUpdate: crl.thisUpdate,
            nextUpdate,
            revokedCount: crl.entries.length,
          };
        }
      } catch {
        // Unreadable or foreign: replaced below by a fresh one with the next number we can tell.
      }
    }
    const crl = await this.generateRootCrl(passphrase, [], {
      crlNumber: previousNumber + 1n,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + (options.validityMs ?? 365 * DAY_MS)),
    });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, crl.pem, { mode: 0o644 });
    await rename(tmp, file);
    return crl;
  }

  private static crlUrlFrom(options: CaOptions): string {
    let base: URL;
    try {
      base = new URL(options.crlBaseUrl);
    } catch (cause) {
      throw new CaError('profile-invalid', `crlBaseUrl is not a URL: ${options.crlBaseUrl}`, { cause });
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new CaError('profile-invalid', 'crlBaseUrl must be http(s)');
    }
    const path = options.crlPath ?? '/ca/crl.pem';
    return base.origin + base.pathname.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`);
  }

  /** Issues a client (person) or service certificate for the key in a PKCS#10 request. */
  async issueFromCsr(csr: PemOrDer, params: IssueParams): Promise<IssuedCertificate> {
    const { spki } = await parseCsr(csr);
    return this.issueLeaf(this.leafSpecFor(params, spki));
  }

  /** Generates the key here and returns it with the certificate as a password-protected PKCS#12. */
  async issueWithGeneratedKey(
    params: IssueParams & { password: string; keyType?: GeneratedKeyType; friendlyName?: string },
  ): Promise<IssuedWithKey> {
    checkPassphrase(params.password, 'PKCS#12 password');
    const key = await generateSubscriberKey(params.keyType);
    const issued = await this.issueLeaf(this.leafSpecFor(params, spkiOf(key)));
    const pkcs12 = await createPkcs12({
      privateKey: key,
      certificate: issued.certificateDer,
      chain: [this.issuingCertificatePem, this.rootCertificatePem],
      password: params.password,
      friendlyName: params.friendlyName ?? `${params.commonName} (MedGrid)`,
    });
    return { ...issued, pkcs12 };
  }

  /** The server's own TLS certificate. With a CSR the key stays with the caller; otherwise a P-256 key is generated. */
  async issueServerCertificate(
    params: ServerCertificateParams & { csr?: PemOrDer } = {},
  ): Promise<IssuedServerCertificate> {
    const hostname = params.hostname ?? 'localhost';
    const dns = new Set<string>(['localhost', ...[hostname, ...(params.dnsNames ?? [])].map(checkHostname)]);
    const ips = new Set<string>(['127.0.0.1', '::1', ...(params.ipAddresses ?? [])]);
    for (const ip of ips)
      if (isIP(ip) === 0) throw new ProfileError(`invalid IP address ${JSON.stringify(ip)}`);
    const san: x509.JsonGeneralName[] = [
      ...[...dns].map((value) => ({ type: 'dns' as const, value })),
      ...[...ips].map((value) => ({ type: 'ip' as const, value })),
    ];
    let privateKeyPem: string | undefined;
    let spki: Buffer;
    if (params.csr !== undefined) {
      spki = (await parseCsr(params.csr)).spki;
    } else {
      const key = await generateSubscriberKey('ecdsa-p256');
      privateKeyPem = key.export({ format: 'pem', type: 'pkcs8' }).toString();
      spki = spkiOf(key);
    }
    const spec: LeafSpec = { profile: 'server', dn: serverDn(hostname), spki, san };
    if (params.validityDays !== undefined) spec.validityDays = params.validityDays;
    const issued = await this.issueLeaf(spec);
    return privateKeyPem === undefined ? issued : { ...issued, privateKeyPem };
  }

  /**
   * New certificate (new serial and validity) for the subject of `existing`, which must have been issued by
   * this CA. The caller must first check that `existing` is not revoked.
   */
  async renew(existing: PemOrDer, options: RenewOptions = {}): Promise<IssuedCertificate> {
    const spec = await this.renewalSpec(existing, options.validityDays);
    if (options.csr !== undefined) spec.spki = (await parseCsr(options.csr)).spki;
    return this.issueLeaf(spec);
  }

  /** Renewal with a fresh server-generated key, delivered as PKCS#12 (client and service profiles). */
  async renewWithGeneratedKey(
    existing: PemOrDer,
    options: { password: string; keyType?: GeneratedKeyType; validityDays?: number; friendlyName?: string },
  ): Promise<IssuedWithKey> {
    checkPassphrase(options.password, 'PKCS#12 password');
    const spec = await this.renewalSpec(existing, options.validityDays);
    if (spec.profile === 'server')
      throw new ProfileError('use issueServerCertificate for server certificates');
    const key = await generateSubscriberKey(options.keyType);
    spec.spki = spkiOf(key);
    const issued = await this.issueLeaf(spec);
    const cn = spec.dn.find(([a]) => a === 'CN')?.[1] ?? 'MedGrid';
    const pkcs12 = await createPkcs12({
      privateKey: key,
      certificate: issued.certificateDer,
      chain: [this.issuingCertificatePem, this.rootCertificatePem],
      password: options.password,
      friendlyName: options.friendlyName ?? `${cn} (MedGrid)`,
    });
    return { ...issued, pkcs12 };
  }

  /** CRL signed by the issuing CA. Entries come from the caller's revocation records. */
  async generateCrl(entries: readonly RevokedEntry[], options: CrlOptions): Promise<GeneratedCrl> {
    const opts: CrlOptions = { ...options };
    if (!opts.thisUpdate) opts.thisUpdate = this.clock();
    return createCrl({ certificate: this.issuingCertificate, signingKey: this.signingKey }, entries, opts);
  }

  /** Verifies a certificate against this CA and the given CRL (see CertificateVerifier). */
  async verify(certificate: PemOrDer, crl: PemOrDer, options: VerifyOptions = {}): Promise<VerifyResult> {
    const verifier = await CertificateVerifier.create({ caCertificates: this.chainPem, crl });
    return verifier.verify(certificate, { now: this.clock(), ...options });
  }

  private leafSpecFor(params: IssueParams, spki: Buffer): LeafSpec {
    const profile = params.profile ?? 'client';
    if (profile !== 'client' && profile !== 'service')
      throw new ProfileError(`unknown profile ${String(profile)}`);
    const dn =
      profile === 'service'
        ? serviceDn(params.facility, params.commonName)
        : personDn(params.facility, params.commonName);
    const spec: LeafSpec = { profile, dn, spki };
    if (params.validityDays !== undefined) spec.validityDays = params.validityDays;
    return spec;
  }

  private async renewalSpec(existing: PemOrDer, validityDays?: number): Promise<LeafSpec> {
    const der = pemOrDerToDer(existing, ['CERTIFICATE']);
    if (!der) throw new ProfileError('no certificate to renew');
    let cert: x509.X509Certificate;
    try {
      cert = new x509.X509Certificate(der);
    } catch (cause) {
      throw new ProfileError('certificate to renew cannot be parsed', { cause });
    }
    const ours =
      Buffer.from(cert.issuerName.toArrayBuffer()).equals(
        Buffer.from(this.issuingCertificate.subjectName.toArrayBuffer()),
      ) &&
      (await cert.verify({ publicKey: this.issuingCertificate, signatureOnly: true }).catch(() => false));
    if (!ours) throw new ProfileError('certificate was not issued by this CA');
    const parts = nameToComponents(cert.subjectName);
    const get = (a: string) => parts.find(([t]) => t === a)?.[1];
    const ou = get('OU');
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
    const spki = Buffer.from(cert.publicKey.rawData);
    const spec: LeafSpec = (() => {
      if (eku?.usages.includes(OID_EKU_SERVER)) {
        const sanExt = cert.getExtension(x509.SubjectAlternativeNameExtension);
        const san = (sanExt?.names.toJSON() ?? []).filter((n) => n.type === 'dns' || n.type === 'ip');
        return { profile: 'server', dn: serverDn(get('CN') ?? 'localhost'), spki, san } satisfies LeafSpec;
      }
      const facility = get('O') ?? '';
      const cn = get('CN') ?? '';
      return ou === SERVICE_OU
        ? ({ profile: 'service', dn: serviceDn(facility, cn), spki } satisfies LeafSpec)
        : ({ profile: 'client', dn: personDn(facility, cn), spki } satisfies LeafSpec);
    })();
    if (validityDays !== undefined) spec.validityDays = validityDays;
    return spec;
  }

  private async issueLeaf(spec: LeafSpec): Promise<IssuedCertificate> {
    const keyType = checkSubscriberKey(spec.spki);
    const now = this.clock();
    const days = spec.validityDays ?? DEFAULT_VALIDITY_DAYS;
    if (!Number.isFinite(days) || days <= 0) throw new ProfileError('validityDays must be a positive number');
    const notBefore = new Date(now.getTime() - BACKDATE_MS);
    const notAfter = new Date(now.getTime() + days * DAY_MS);
    if (notAfter.getTime() > addUtcMonths(now, MAX_VALIDITY_MONTHS).getTime()) {
      throw new ProfileError(`validity of ${days} days exceeds the maximum of ${MAX_VALIDITY_MONTHS} months`);
    }
    if (notAfter.getTime() > this.issuingCertificate.notAfter.getTime()) {
      throw new ProfileError('certificate would outlive the issuing CA; renew the issuing CA first');
    }
    if (now.getTime() < this.issuingCertificate.notBefore.getTime()) {
      throw new ProfileError('issuing CA is not yet valid (check the clock)');
    }

    const issuerSki = this.issuingCertificate.getExtension(x509.SubjectKeyIdentifierExtension);
    if (!issuerSki) throw new CaIntegrityError('issuing CA certificate has no subject key identifier');
    let usage = x509.KeyUsageFlags.digitalSignature;
    if (keyType === 'rsa') usage |= x509.KeyUsageFlags.keyEncipherment;
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(usage, true),
      new x509.ExtendedKeyUsageExtension(
        [spec.profile === 'server' ? OID_EKU_SERVER : OID_EKU_CLIENT],
        false,
      ),
      await x509.SubjectKeyIdentifierExtension.create(spec.spki),
      new x509.AuthorityKeyIdentifierExtension(issuerSki.keyId),
      new x509.CRLDistributionPointsExtension([this.crlUrl]),
    ];
    if (spec.san?.length) extensions.push(new x509.SubjectAlternativeNameExtension(spec.san, false));

    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerialHex(),
      subject: toX509Name(spec.dn),
      issuer: this.issuingCertificate.subjectName,
      notBefore,
      notAfter,
      publicKey: spec.spki,
      signingKey: this.signingKey.key as unknown as X509CryptoKey,
      signingAlgorithm: this.signingKey.algorithm as X509SigningAlgorithm,
      extensions,
    });
    const der = Buffer.from(cert.rawData);
    return {
      profile: spec.profile,
      certificatePem: toPem(der, 'CERTIFICATE'),
      certificateDer: der,
      chainPem: this.chainPem,
      serialHex: serialFromX509(cert.serialNumber),
      subject: slashForm(spec.dn),
      // X.509 stores whole seconds.
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      fingerprintSha256: fingerprintSha256(der),
      keyType,
    };
  }
}
