import { createPublicKey, type KeyObject } from 'node:crypto';
import { KeyPolicyError } from './ca.errors.js';

export type SubscriberKeyKind = 'rsa' | 'ec-p256';

/** Subscriber keys: RSA >= 2048 bits with e = 65537, or ECDSA P-256 (what WebCrypto in every browser signs with). */
export function checkSubscriberKey(spki: Uint8Array | KeyObject): SubscriberKeyKind {
  let key: KeyObject;
  try {
    key =
      spki instanceof Uint8Array
        ? createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
        : spki;
  } catch (cause) {
    throw new KeyPolicyError('public key cannot be parsed', { cause });
  }
  const type = key.asymmetricKeyType;
  const d = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa') {
    const bits = d.modulusLength ?? 0;
    if (bits < 2048)
      throw new KeyPolicyError(`RSA key of ${bits} bits refused: at least 2048 bits are required`);
    if (bits > 8192)
      throw new KeyPolicyError(`RSA key of ${bits} bits refused: at most 8192 bits are accepted`);
    if (d.publicExponent !== 65537n)
      throw new KeyPolicyError('RSA key refused: public exponent must be 65537');
    return 'rsa';
  }
  if (type === 'ec') {
    if (d.namedCurve === 'prime256v1') return 'ec-p256';
    throw new KeyPolicyError(`EC key on curve ${d.namedCurve ?? '?'} refused: only P-256 is accepted`);
  }
  throw new KeyPolicyError(
    `key type ${type ?? '?'} refused: only RSA (>= 2048) and ECDSA P-256 are accepted`,
  );
}
