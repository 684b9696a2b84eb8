import {
  createCipheriv,
  createPrivateKey,
  type KeyObject,
  pbkdf2,
  randomBytes,
  webcrypto,
} from 'node:crypto';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';
import { CaError, CaPassphraseError, KeyPolicyError } from './ca.errors.js';
import { toPem } from './pem.util.js';

const pbkdf2Async = promisify(pbkdf2);

/** OWASP 2023 figure for PBKDF2-HMAC-SHA256; Node's own export() only uses 2048. */
export const DEFAULT_KDF_ITERATIONS = 600_000;
export const MIN_KDF_ITERATIONS = 10_000;
export const MIN_PASSPHRASE_LENGTH = 12;

const OID_PBES2 = '1.2.840.113549.1.5.13';
const OID_PBKDF2 = '1.2.840.113549.1.5.12';
const OID_HMAC_SHA256 = '1.2.840.113549.2.9';
const OID_AES256_CBC = '2.16.840.1.101.3.4.1.42';

export function checkPassphrase(passphrase: string, what: string): void {
  if (typeof passphrase !== 'string' || passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new CaError('profile-invalid', `${what} must be at least ${MIN_PASSPHRASE_LENGTH} characters`);
  }
}

/**
 * Encrypted PKCS#8 (PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC), the same structure OpenSSL writes,
 * so `openssl pkey -in key.pem` can read it, but with a configurable iteration count.
 */
export async function encryptPrivateKey(
  key: KeyObject,
  passphrase: string,
  iterations = DEFAULT_KDF_ITERATIONS,
): Promise<string> {
  if (!Number.isInteger(iterations) || iterations < MIN_KDF_ITERATIONS) {
    throw new CaError('profile-invalid', `kdf iterations must be an integer >= ${MIN_KDF_ITERATIONS}`);
  }
  const pkcs8 = key.export({ format: 'der', type: 'pkcs8' });
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const dk = await pbkdf2Async(Buffer.from(passphrase, 'utf8'), salt, iterations, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', dk, iv);
  const encrypted = Buffer.concat([cipher.update(pkcs8), cipher.final()]);
  dk.fill(0);
  pkcs8.fill(0);
  const info = new asn1js.Sequence({
    value: [
      new asn1js.Sequence({
        value: [
          new asn1js.ObjectIdentifier({ value: OID_PBES2 }),
          new asn1js.Sequence({
            value: [
              new asn1js.Sequence({
                value: [
                  new asn1js.ObjectIdentifier({ value: OID_PBKDF2 }),
                  new asn1js.Sequence({
                    value: [
                      new asn1js.OctetString({ valueHex: salt }),
                      new asn1js.Integer({ value: iterations }),
                      new asn1js.Integer({ value: 32 }),
                      new asn1js.Sequence({
                        value: [new asn1js.ObjectIdentifier({ value: OID_HMAC_SHA256 }), new asn1js.Null()],
                      }),
                    ],
                  }),
                ],
              }),
              new asn1js.Sequence({
                value: [
                  new asn1js.ObjectIdentifier({ value: OID_AES256_CBC }),
                  new asn1js.OctetString({ valueHex: iv }),
                ],
              }),
            ],
          }),
        ],
      }),
      new asn1js.OctetString({ valueHex: encrypted }),
    ],
  });
  return toPem(info.toBER(false), 'ENCRYPTED PRIVATE KEY');
}

/** OpenSSL does the decryption; any failure on an encrypted key is reported as a passphrase problem. */
export function decryptPrivateKey(pem: string, passphrase: string, what = 'CA key'): KeyObject {
  if (!pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) {
    throw new CaError(
      'ca-integrity',
      `${what} is not an encrypted PKCS#8 key; refusing to use an unprotected key`,
    );
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem', passphrase });
  } catch (cause) {
    throw new CaPassphraseError(`wrong passphrase for ${what} (or the key file is corrupted)`, { cause });
  }
}

export type KeyKind = 'ec-p256' | 'ec-p384' | 'rsa';

export interface SigningKey {
  kind: KeyKind;
  key: webcrypto.CryptoKey;
  /** Signature algorithm passed to @peculiar/x509 generators. */
  algorithm: webcrypto.EcdsaParams | webcrypto.RsaHashedImportParams;
}

export function keyKind(key: KeyObject): KeyKind {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa') return 'rsa';
  if (type === 'ec' && details.namedCurve === 'prime256v1') return 'ec-p256';
  if (type === 'ec' && details.namedCurve === 'secp384r1') return 'ec-p384';
  throw new KeyPolicyError(`unsupported key type ${type ?? '?'} ${details.namedCurve ?? ''}`.trim());
}

export async function toSigningKey(key: KeyObject): Promise<SigningKey> {
  const kind = keyKind(key);
  const pkcs8 = key.export({ format: 'der', type: 'pkcs8' });
  try {
    if (kind === 'rsa') {
      const params = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
      const k = await webcrypto.subtle.importKey('pkcs8', pkcs8, params, false, ['sign']);
      return { kind, key: k, algorithm: params };
    }
    const namedCurve = kind === 'ec-p256' ? 'P-256' : 'P-384';
    const k = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve }, false, [
      'sign',
    ]);
    return { kind, key: k, algorithm: { name: 'ECDSA', hash: kind === 'ec-p256' ? 'SHA-256' : 'SHA-384' } };
  } finally {
    pkcs8.fill(0);
  }
}
