import './crypto-provider.util.js';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import { CaError, RevocationError } from './ca.errors.js';
import { type X509CryptoKey, type X509SigningAlgorithm } from './crypto-provider.util.js';
import type { SigningKey } from './key-store.util.js';
import { type PemOrDer, pemOrDerToDer, toPem } from './pem.util.js';

/** RFC 5280 §5.3.1 CRLReason; 7 is unused and removeFromCRL (8) only belongs in delta CRLs. */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;

export type RevocationReason = keyof typeof REVOCATION_REASONS;

export interface RevokedEntry {
  /** Serial as hex (any case, optional colons / leading zeros). */
  serialHex: string;
  revokedAt: Date;
  reason: RevocationReason | number;
  /** Optional RFC 5280 invalidityDate (when the key is known or suspected to have been compromised). */
  invalidityDate?: Date;
}

export interface NormalisedRevocation {
  serialHex: string;
  revokedAt: Date;
  reason: RevocationReason;
  reasonCode: number;
  invalidityDate?: Date;
}

export interface CrlOptions {
  /** Monotonically increasing; the caller persists it (RFC 5280 §5.2.3). */
  crlNumber: bigint | number;
  thisUpdate?: Date;
  /** Default thisUpdate + 7 days. Regenerate well before it passes: verifiers fail closed on a stale CRL. */
  nextUpdate?: Date;
}

export interface GeneratedCrl {
  der: Buffer;
  /** Armoured as `X509 CRL`, the label OpenSSL and Node's TLS accept. */
  pem: string;
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  revokedCount: number;
}

export const DEFAULT_CRL_VALIDITY_MS = 7 * 24 * 3600 * 1000;
const MAX_CRL_NUMBER = (1n << 159n) - 1n; // 20 octets, RFC 5280

/** Canonical serial form used across MedGrid: lowercase hex, no separators, no leading zero octets. */
export function normaliseSerialHex(serial: string): string {
  let s = serial.replace(/[:\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(s)) throw new RevocationError(`invalid serial number ${JSON.stringify(serial)}`);
  if (s.length % 2) s = `0${s}`;
  while (s.length > 2 && s.startsWith('00')) s = s.slice(2);
  return s;
}

export function normaliseRevocation(entry: RevokedEntry): NormalisedRevocation {
  let reason: RevocationReason | undefined;
  if (typeof entry.reason === 'number') {
    reason = (Object.keys(REVOCATION_REASONS) as RevocationReason[]).find(
      (k) => REVOCATION_REASONS[k] === entry.reason,
    );
  } else if (Object.hasOwn(REVOCATION_REASONS, entry.reason)) {
    reason = entry.reason;
  }
  if (reason === undefined)
    throw new RevocationError(`invalid RFC 5280 revocation reason ${String(entry.reason)}`);
  if (!(entry.revokedAt instanceof Date) || Number.isNaN(entry.revokedAt.getTime())) {
    throw new RevocationError('revokedAt must be a valid Date');
  }
  const out: NormalisedRevocation = {
    serialHex: normaliseSerialHex(entry.serialHex),
    revokedAt: entry.revokedAt,
    reason,
    reasonCode: REVOCATION_REASONS[reason],
  };
  if (entry.invalidityDate) out.invalidityDate = entry.invalidityDate;
  return out;
}

export function crlToPem(der: Uint8Array | ArrayBuffer): string {
  return toPem(der, 'X509 CRL');
}

/** Accepts DER, or PEM labelled `X509 CRL` or `CRL` (the latter is what @peculiar/x509 writes). */
export function parseCrl(input: PemOrDer): x509.X509Crl {
  const der = pemOrDerToDer(input, ['X509 CRL', 'CRL']);
  if (!der) throw new CaError('crl-invalid', 'no CRL found in input');
  try {
    return new x509.X509Crl(der);
  } catch (cause) {
    throw new CaError('crl-invalid', 'CRL cannot be parsed', { cause });
  }
}

function toAsnIntegerDer(value: bigint): ArrayBuffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  return new asn1js.Integer({ valueHex: Buffer.from(hex, 'hex') }).toBER(false);
}

export interface CrlSigner {
  certificate: x509.X509Certificate;
  signingKey: SigningKey;
}

export async function createCrl(
  signer: CrlSigner,
  entries: readonly RevokedEntry[],
  options: CrlOptions,
): Promise<GeneratedCrl> {
  const crlNumber = BigInt(options.crlNumber);
  if (crlNumber < 0n || crlNumber > MAX_CRL_NUMBER) throw new RevocationError('crlNumber out of range');
  const thisUpdate = options.thisUpdate ?? new Date();
  const nextUpdate = options.nextUpdate ?? new Date(thisUpdate.getTime() + DEFAULT_CRL_VALIDITY_MS);
  if (nextUpdate.getTime() <= thisUpdate.getTime())
    throw new RevocationError('nextUpdate must be after thisUpdate');

  const seen = new Set<string>();
  const crlEntries: x509.X509CrlEntryParams[] = [];
  for (const e of entries.map(normaliseRevocation)) {
    if (seen.has(e.serialHex)) throw new RevocationError(`serial ${e.serialHex} listed twice`);
    seen.add(e.serialHex);
    const p: x509.X509CrlEntryParams = { serialNumber: e.serialHex, revocationDate: e.revokedAt };
    // RFC 5280 §5.3.1: reasonCode SHOULD be absent rather than "unspecified".
    if (e.reasonCode !== 0) p.reason = e.reasonCode as x509.X509CrlReason;
    if (e.invalidityDate) p.invalidity = e.invalidityDate;
    crlEntries.push(p);
  }

  const ski = signer.certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!ski) throw new CaError('ca-integrity', 'CRL signer certificate has no subject key identifier');
  const crl = await x509.X509CrlGenerator.create({
    issuer: signer.certificate.subjectName,
    thisUpdate,
    nextUpdate,
    entries: crlEntries,
    signingKey: signer.signingKey.key as unknown as X509CryptoKey,
    signingAlgorithm: signer.signingKey.algorithm as X509SigningAlgorithm,
    extensions: [
      new x509.AuthorityKeyIdentifierExtension(ski.keyId),
      new x509.Extension('2.5.29.20', false, toAsnIntegerDer(crlNumber)),
    ],
  });
  const der = Buffer.from(crl.rawData);
  return { der, pem: crlToPem(der), crlNumber, thisUpdate, nextUpdate, revokedCount: crlEntries.length };
}

/** CRL Number extension value, if present. */
export function crlNumberOf(crl: x509.X509Crl): bigint | undefined {
  const ext = crl.getExtension('2.5.29.20');
  if (!ext) return undefined;
  const parsed = asn1js.fromBER(ext.value);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Integer)) return undefined;
  return parsed.result.toBigInt();
}
