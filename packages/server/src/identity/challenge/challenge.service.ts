import { randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import type { CertificateIdentity, CertificateVerifier, PemOrDer, VerifyFailureReason } from '../ca/index.js';
import { pemOrDerToDer } from '../ca/index.js';
import type { ChallengeStore } from './challenge.store.js';

export type ChallengeSignatureAlgorithm = 'RSA-PSS' | 'RSASSA-PKCS1-v1_5' | 'ECDSA';

export const CHALLENGE_ALGORITHMS: readonly ChallengeSignatureAlgorithm[] = [
  'RSA-PSS',
  'RSASSA-PKCS1-v1_5',
  'ECDSA',
];
/** RSA-PSS salt length the client must use: the SHA-256 output size. */
export const RSA_PSS_SALT_LENGTH = 32;
export const DEFAULT_CHALLENGE_TTL_SECONDS = 120;
const MESSAGE_PREFIX = 'medgrid-login-v1';
const ID_RE = /^[A-Za-z0-9_-]{22}$/;
const B64_RE = /^[A-Za-z0-9+/_-]+={0,2}$/;

export interface Challenge {
  nonceId: string;
  /** 32 random bytes, base64url. */
  nonce: string;
  expiresAt: Date;
  /** base64url of the exact bytes to sign (see challengeMessage). */
  toSign: string;
  algorithms: readonly ChallengeSignatureAlgorithm[];
}

export interface ChallengeResponse {
  certificatePem: PemOrDer;
  nonceId: string;
  /** base64 or base64url string, or raw bytes. ECDSA signatures are IEEE P1363 (r‖s), as WebCrypto returns them. */
  signature: string | Uint8Array;
  algorithm: ChallengeSignatureAlgorithm;
}

export type ChallengeFailureReason =
  | 'malformed'
  /** Never issued, already used (replay) or purged. */
  | 'unknown-nonce'
  | 'expired-nonce'
  /** The certificate failed verification; see certificateReason. */
  | 'certificate'
  /** The certificate is valid but not of a kind allowed to log in (e.g. a service account). */
  | 'wrong-profile'
  /** The algorithm does not fit the certificate's key. */
  | 'unsupported-algorithm'
  | 'bad-signature';

export type ChallengeResult =
  | { ok: true; identity: CertificateIdentity; nonceId: string }
  | {
      ok: false;
      reason: ChallengeFailureReason;
      detail: string;
      certificateReason?: VerifyFailureReason;
      identity?: CertificateIdentity;
    };

export interface ChallengeServiceOptions {
  store: ChallengeStore;
  /** Returns the verifier for the current CA chain and CRL; called on every verification so a new CRL applies at once. */
  verifier: () => CertificateVerifier | Promise<CertificateVerifier>;
  ttlSeconds?: number;
  /** Certificate kinds allowed to log in. Default: persons only. */
  allowedKinds?: ReadonlyArray<CertificateIdentity['kind']>;
  clock?: () => Date;
}

/**
 * Domain-separated message so that a login signature cannot be replayed as a signature on anything else.
 * Bytes: UTF-8 of `medgrid-login-v1:<nonceId>:<nonce base64url>`.
 */
export function challengeMessage(nonceId: string, nonce: Uint8Array): Buffer {
  return Buffer.from(`${MESSAGE_PREFIX}:${nonceId}:${Buffer.from(nonce).toString('base64url')}`, 'utf8');
}

function decodeSignature(sig: string | Uint8Array): Buffer | undefined {
  if (typeof sig !== 'string') return Buffer.from(sig);
  const s = sig.trim();
  if (s.length === 0 || s.length > 2048 || !B64_RE.test(s)) return undefined;
  return Buffer.from(s, 'base64');
}

export class ChallengeService {
  private readonly store: ChallengeStore;
  private readonly verifier: () => CertificateVerifier | Promise<CertificateVerifier>;
  private readonly ttlMs: number;
  private readonly allowedKinds: ReadonlyArray<CertificateIdentity['kind']>;
  private readonly clock: () => Date;

  constructor(options: ChallengeServiceOptions) {
    this.store = options.store;
    this.verifier = options.verifier;
    const ttl = options.ttlSeconds ?? DEFAULT_CHALLENGE_TTL_SECONDS;
    if (!(ttl > 0 && ttl <= 600)) throw new RangeError('ttlSeconds must be in (0, 600]');
    this.ttlMs = ttl * 1000;
    this.allowedKinds = options.allowedKinds ?? ['client'];
    this.clock = options.clock ?? (() => new Date());
  }

  async create(): Promise<Challenge> {
    const now = this.clock();
    const id = randomBytes(16).toString('base64url');
    const nonce = randomBytes(32);
    const expiresAt = new Date(now.getTime() + this.ttlMs);
    await this.store.save({ id, nonce, createdAt: now, expiresAt });
    return {
      nonceId: id,
      nonce: nonce.toString('base64url'),
      expiresAt,
      toSign: challengeMessage(id, nonce).toString('base64url'),
      algorithms: CHALLENGE_ALGORITHMS,
    };
  }

  /** Consumes the nonce first, so any attempt (even a failed one) uses it up. */
  async verify(response: ChallengeResponse): Promise<ChallengeResult> {
    const fail = (
      reason: ChallengeFailureReason,
      detail: string,
      extra: Partial<ChallengeResult> = {},
    ): ChallengeResult => ({ ok: false, reason, detail, ...extra }) as ChallengeResult;
    if (typeof response?.nonceId !== 'string' || !ID_RE.test(response.nonceId)) {
      return fail('malformed', 'nonceId is not a challenge id');
    }
    const record = await this.store.take(response.nonceId);
    if (!record) return fail('unknown-nonce', 'challenge unknown or already used');
    const now = this.clock();
    if (now.getTime() >= record.expiresAt.getTime()) return fail('expired-nonce', 'challenge expired');

    if (!CHALLENGE_ALGORITHMS.includes(response.algorithm)) {
      return fail('unsupported-algorithm', `algorithm must be one of ${CHALLENGE_ALGORITHMS.join(', ')}`);
    }
    const signature = decodeSignature(response.signature);
    if (!signature) return fail('malformed', 'signature is not base64');
    const certDer = pemOrDerToDer(response.certificatePem, ['CERTIFICATE']);
    if (!certDer) return fail('malformed', 'no certificate');

    const verifier = await this.verifier();
    const verdict = await verifier.verify(certDer, { now, purpose: 'client' });
    if (!verdict.ok) {
      const extra: Partial<ChallengeResult> = { certificateReason: verdict.reason };
      if (verdict.identity) Object.assign(extra, { identity: verdict.identity });
      return fail('certificate', verdict.detail, extra);
    }
    const identity = verdict.identity;
    if (!this.allowedKinds.includes(identity.kind)) {
      return fail('wrong-profile', `${identity.kind} certificates cannot log in here`, { identity });
    }

    let key: webcrypto.CryptoKey;
    let params: webcrypto.AlgorithmIdentifier | webcrypto.RsaPssParams | webcrypto.EcdsaParams;
    const spki = new X509Certificate(certDer).publicKey.export({ format: 'der', type: 'spki' });
    try {
      if (response.algorithm === 'ECDSA') {
        key = await webcrypto.subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-256' }, false, [
          'verify',
        ]);
        params = { name: 'ECDSA', hash: 'SHA-256' };
      } else {
        key = await webcrypto.subtle.importKey(
          'spki',
          spki,
          { name: response.algorithm, hash: 'SHA-256' },
          false,
          ['verify'],
        );
        params =
          response.algorithm === 'RSA-PSS'
            ? { name: 'RSA-PSS', saltLength: RSA_PSS_SALT_LENGTH }
            : { name: response.algorithm };
      }
    } catch {
      return fail('unsupported-algorithm', `${response.algorithm} does not fit the certificate key`, {
        identity,
      });
    }
    const message = challengeMessage(record.id, record.nonce);
    const ok = await webcrypto.subtle.verify(params, key, signature, message).catch(() => false);
    if (!ok) return fail('bad-signature', 'signature does not verify with the certificate key', { identity });
    return { ok: true, identity, nonceId: record.id };
  }
}
