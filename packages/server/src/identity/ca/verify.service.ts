import './crypto-provider.util.js';
import { createHash } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { CaError } from './ca.errors.js';
import {
  crlNumberOf,
  normaliseSerialHex,
  parseCrl,
  REVOCATION_REASONS,
  type RevocationReason,
} from './crl.service.js';
import { nameToComponents, nameToSlashForm, SERVER_OU, SERVICE_OU } from './dn.util.js';
import { certificatesDer, type PemOrDer, parsePemBlocks, pemOrDerToDer } from './pem.util.js';

export type VerifyFailureReason =
  | 'expired'
  | 'not-yet-valid'
  | 'revoked'
  | 'unknown-ca'
  | 'bad-signature'
  | 'wrong-eku'
  /** Not a parseable X.509 certificate, or it carries an unknown critical extension. */
  | 'malformed'
  /** A CA certificate presented as an end entity. */
  | 'not-end-entity'
  /** The CRL is not from the certificate's issuer, has a bad signature, or is stale: fail closed. */
  | 'crl-invalid';

export interface CertificateIdentity {
  /** `/DC=ua/DC=medgrid/O=<facility>/CN=<name>` (OpenSSL compat one-line form, ASN.1 order). */
  subject: string;
  issuer: string;
  /** Lowercase hex, no leading zero octets. */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  fingerprintSha256: string;
  /** Derived from the subject: OU=service → service, OU=server → server, else client. */
  kind: 'client' | 'service' | 'server';
  facility?: string;
  commonName?: string;
}

export type VerifyResult =
  | { ok: true; identity: CertificateIdentity }
  | {
      ok: false;
      reason: VerifyFailureReason;
      detail: string;
      identity?: CertificateIdentity;
      revokedAt?: Date;
      revocationReason?: RevocationReason;
    };

export interface VerifyOptions {
  now?: Date;
  /** Which EKU the certificate must carry. Default `client`. */
  purpose?: 'client' | 'server';
}

export interface VerifierInput {
  /** Trusted CA certificates (root and issuing), PEM bundle, DER, or a list of either. */
  caCertificates: PemOrDer | readonly PemOrDer[];
  /** Current CRL of the issuing CA, optionally with the root CRL (DER or PEM, label `X509 CRL` or `CRL`). */
  crl: PemOrDer | readonly PemOrDer[];
}

const OID = {
  clientAuth: '1.3.6.1.5.5.7.3.2',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
} as const;
const KNOWN_CRITICAL = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
]);
const MAX_DEPTH = 4;
const CRL_SKEW_MS = 5 * 60 * 1000;

function nameKey(name: x509.Name): string {
  return Buffer.from(name.toArrayBuffer()).toString('hex');
}

export function identityOf(cert: x509.X509Certificate): CertificateIdentity {
  const parts = nameToComponents(cert.subjectName);
  const get = (a: string) => parts.find(([t]) => t === a)?.[1];
  const ou = get('OU');
  const id: CertificateIdentity = {
    subject: nameToSlashForm(cert.subjectName),
    issuer: nameToSlashForm(cert.issuerName),
    serialHex: normaliseSerialHex(cert.serialNumber),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    fingerprintSha256: createHash('sha256').update(new Uint8Array(cert.rawData)).digest('hex'),
    kind: ou === SERVICE_OU ? 'service' : ou === SERVER_OU ? 'server' : 'client',
  };
  const o = get('O');
  const cn = get('CN');
  if (o !== undefined) id.facility = o;
  if (cn !== undefined) id.commonName = cn;
  return id;
}

/** Parses a certificate (DER or PEM) and returns its identity, without any trust decision. */
export function parseCertificateIdentity(certificate: PemOrDer): CertificateIdentity {
  const der = pemOrDerToDer(certificate, ['CERTIFICATE']);
  if (!der) throw new Error('no certificate found');
  return identityOf(new x509.X509Certificate(der));
}

interface LoadedCrl {
  crl: x509.X509Crl;
  /** Key of the trusted CA whose key verifies the CRL signature, if any. */
  signerKey?: string;
  revoked: Map<string, x509.X509CrlEntry>;
}

function caKey(cert: x509.X509Certificate): string {
  return `${nameKey(cert.subjectName)}:${Buffer.from(cert.publicKey.rawData).toString('hex')}`;
}

/** All CRLs from DER, PEM bundles (labels `X509 CRL` or `CRL`) or lists of either. */
export function parseCrls(input: PemOrDer | readonly PemOrDer[]): x509.X509Crl[] {
  const items = Array.isArray(input) ? input : [input as PemOrDer];
  const out: x509.X509Crl[] = [];
  for (const item of items) {
    if (typeof item !== 'string' && item[0] === 0x30) {
      out.push(parseCrl(item));
      continue;
    }
    const text = typeof item === 'string' ? item : Buffer.from(item).toString('latin1');
    const blocks = parsePemBlocks(text).filter((b) => b.label === 'X509 CRL' || b.label === 'CRL');
    if (blocks.length === 0) throw new CaError('crl-invalid', 'no CRL found in input');
    for (const b of blocks) out.push(parseCrl(b.der));
  }
  return out;
}

/**
 * Application-level check for the mTLS and challenge paths: chain to a trusted CA, validity, EKU, and
 * revocation. Build once per CRL set and reuse (CRL signatures are checked once, here).
 *
 * The CRL of the leaf's issuer is required (fail closed, like `openssl verify -crl_check`). A root CRL,
 * when given, is also applied to the issuing CA.
 */
export class CertificateVerifier {
  private readonly cas: x509.X509Certificate[];
  private readonly crls: LoadedCrl[];

  private constructor(cas: x509.X509Certificate[], crls: LoadedCrl[]) {
    this.cas = cas;
    this.crls = crls;
  }

  static async create(input: VerifierInput): Promise<CertificateVerifier> {
    const cas = certificatesDer(input.caCertificates as PemOrDer | PemOrDer[]).map(
      (d) => new x509.X509Certificate(d),
    );
    if (cas.length === 0) throw new CaError('crl-invalid', 'no CA certificates given');
    const crls: LoadedCrl[] = [];
    for (const crl of parseCrls(input.crl)) {
      const loaded: LoadedCrl = { crl, revoked: new Map() };
      for (const ca of cas) {
        if (nameKey(ca.subjectName) !== nameKey(crl.issuerName)) continue;
        if (await crl.verify({ publicKey: ca }).catch(() => false)) {
          loaded.signerKey = caKey(ca);
          break;
        }
      }
      for (const e of crl.entries) loaded.revoked.set(normaliseSerialHex(e.serialNumber), e);
      crls.push(loaded);
    }
    return new CertificateVerifier(cas, crls);
  }

  /** Earliest nextUpdate among the CRLs: regenerate before this. */
  get crlNextUpdate(): Date | undefined {
    const times = this.crls.map((c) => c.crl.nextUpdate?.getTime() ?? 0);
    return times.length ? new Date(Math.min(...times)) : undefined;
  }

  /** CRL number of the first CRL given (normally the issuing CA's). */
  get crlNumber(): bigint | undefined {
    const first = this.crls[0];
    return first ? crlNumberOf(first.crl) : undefined;
  }

  async verify(certificate: PemOrDer, options: VerifyOptions = {}): Promise<VerifyResult> {
    const now = options.now ?? new Date();
    const purpose = options.purpose ?? 'client';
    let leaf: x509.X509Certificate;
    let identity: CertificateIdentity;
    try {
      const der = pemOrDerToDer(certificate, ['CERTIFICATE']);
      if (!der) return { ok: false, reason: 'malformed', detail: 'no certificate found' };
      leaf = new x509.X509Certificate(der);
      identity = identityOf(leaf);
    } catch (e) {
      return {
        ok: false,
        reason: 'malformed',
        detail: `certificate cannot be parsed: ${(e as Error).message}`,
      };
    }
    const fail = (reason: VerifyFailureReason, detail: string): VerifyResult => ({
      ok: false,
      reason,
      detail,
      identity,
    });

    // 1. Chain: every link must verify, ending at a self-issued CA from the trusted list.
    const path: x509.X509Certificate[] = [];
    let current = leaf;
    for (;;) {
      if (path.length >= MAX_DEPTH) return fail('unknown-ca', 'chain too long');
      const candidates = this.cas.filter((c) => nameKey(c.subjectName) === nameKey(current.issuerName));
      if (candidates.length === 0)
        return fail('unknown-ca', `issuer ${nameToSlashForm(current.issuerName)} is not trusted`);
      let issuer: x509.X509Certificate | undefined;
      for (const c of candidates) {
        if (await current.verify({ publicKey: c, signatureOnly: true }).catch(() => false)) {
          issuer = c;
          break;
        }
      }
      if (!issuer)
        return fail('bad-signature', `signature of ${nameToSlashForm(current.subjectName)} does not verify`);
      const bc = issuer.getExtension(x509.BasicConstraintsExtension);
      const ku = issuer.getExtension(x509.KeyUsagesExtension);
      if (!bc?.ca || (ku && !(ku.usages & x509.KeyUsageFlags.keyCertSign))) {
        return fail('unknown-ca', `${nameToSlashForm(issuer.subjectName)} is not a CA`);
      }
      // pathLenConstraint counts the CA certificates below this one, excluding the leaf.
      if (bc.pathLength !== undefined && bc.pathLength < path.length) {
        return fail('unknown-ca', 'path length constraint exceeded');
      }
      path.push(issuer);
      if (nameKey(issuer.subjectName) === nameKey(issuer.issuerName)) break;
      current = issuer;
    }

    // 2. Validity of the leaf and of the CAs on the path.
    if (now < leaf.notBefore) return fail('not-yet-valid', `valid from ${leaf.notBefore.toISOString()}`);
    if (now > leaf.notAfter) return fail('expired', `expired at ${leaf.notAfter.toISOString()}`);
    for (const ca of path) {
      if (now < ca.notBefore || now > ca.notAfter) {
        return fail(
          now > ca.notAfter ? 'expired' : 'not-yet-valid',
          `CA ${nameToSlashForm(ca.subjectName)} is outside its validity`,
        );
      }
    }

    // 3. End-entity profile.
    for (const ext of leaf.extensions) {
      if (ext.critical && !KNOWN_CRITICAL.has(ext.type))
        return fail('malformed', `unknown critical extension ${ext.type}`);
    }
    if (leaf.getExtension(x509.BasicConstraintsExtension)?.ca)
      return fail('not-end-entity', 'certificate is a CA');
    const eku = leaf.getExtension(x509.ExtendedKeyUsageExtension);
    const wanted = purpose === 'server' ? OID.serverAuth : OID.clientAuth;
    if (!eku?.usages.map(String).includes(wanted))
      return fail('wrong-eku', `certificate lacks EKU ${purpose}Auth`);
    const ku = leaf.getExtension(x509.KeyUsagesExtension);
    if (ku && !(ku.usages & x509.KeyUsageFlags.digitalSignature))
      return fail('wrong-eku', 'key usage lacks digitalSignature');

    // 4. Revocation: leaf against its issuer's CRL (required), CAs against their issuer's CRL when given.
    const subjects = [leaf, ...path.slice(0, -1)];
    for (const [i, subject] of subjects.entries()) {
      const issuer = path[i]!;
      const loaded = this.crls.find(
        (c) => nameKey(c.crl.issuerName) === nameKey(issuer.subjectName) && c.signerKey === caKey(issuer),
      );
      if (!loaded) {
        if (i > 0) continue;
        const sameName = this.crls.some((c) => nameKey(c.crl.issuerName) === nameKey(issuer.subjectName));
        return fail(
          'crl-invalid',
          sameName ? 'CRL signature does not verify' : 'no CRL from the certificate issuer',
        );
      }
      if (loaded.crl.thisUpdate.getTime() > now.getTime() + CRL_SKEW_MS)
        return fail('crl-invalid', 'CRL is not yet valid');
      const next = loaded.crl.nextUpdate;
      if (!next || next.getTime() < now.getTime())
        return fail('crl-invalid', 'CRL is stale (past nextUpdate)');
      const entry = loaded.revoked.get(normaliseSerialHex(subject.serialNumber));
      if (!entry) continue;
      const reasonCode = entry.reason ?? 0;
      const name = (Object.keys(REVOCATION_REASONS) as RevocationReason[]).find(
        (k) => REVOCATION_REASONS[k] === reasonCode,
      );
      const who = i === 0 ? 'certificate' : `CA ${nameToSlashForm(subject.subjectName)}`;
      const r: VerifyResult = {
        ok: false,
        reason: 'revoked',
        detail: `${who} revoked at ${entry.revocationDate.toISOString()} (${name ?? reasonCode})`,
        identity,
        revokedAt: entry.revocationDate,
      };
      if (name) r.revocationReason = name;
      return r;
    }
    return { ok: true, identity };
  }
}

/** One-shot form of CertificateVerifier. */
export async function verifyCertificate(
  certificate: PemOrDer,
  trust: VerifierInput,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  return (await CertificateVerifier.create(trust)).verify(certificate, options);
}
