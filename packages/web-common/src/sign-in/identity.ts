import type { Client } from '@urql/core';
import { errorText } from '../graphql/errors.js';
import { type Me, RequestChallengeMutation, SignInMutation } from '../session/session.query.js';

export type SignatureAlgorithm = 'ECDSA' | 'RSA-PSS';

/** A certificate and its non-extractable private key, as kept in memory or in IndexedDB. */
export interface BrowserIdentity {
  privateKey: CryptoKey;
  certificatePem: string;
  algorithm: SignatureAlgorithm;
  /** The certificate's common name, for "Sign in as …". */
  name: string;
}

export type SignInErrorKind =
  | 'wrongPassword'
  | 'notPkcs12'
  | 'noKey'
  | 'unsupportedKey'
  | 'revoked'
  | 'expired'
  | 'notYetValid'
  | 'untrusted'
  | 'notOnRecord'
  | 'refused'
  | 'network';

/** A sign-in failure with the message key (`signIn.errors.<kind>`) that explains it. */
export class SignInError extends Error {
  constructor(
    readonly kind: SignInErrorKind,
    readonly detail = '',
  ) {
    super(detail || kind);
    this.name = 'SignInError';
  }
}

export function certificateToPem(der: Uint8Array): string {
  let binary = '';
  for (const b of der) binary += String.fromCharCode(b);
  const b64 = btoa(binary).replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`;
}

function base64urlToBytes(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Maps the server's refusal ("sign-in refused: certificate revoked", …) to a message key. */
export function classifyRefusal(message: string): SignInErrorKind {
  if (/revoked/i.test(message)) return 'revoked';
  if (/not.?yet.?valid/i.test(message)) return 'notYetValid';
  if (/expired-nonce/i.test(message)) return 'refused';
  if (/expired/i.test(message)) return 'expired';
  if (/certificate (unknown-ca|bad-signature|not-end-entity|wrong-eku|malformed)|untrusted/i.test(message))
    return 'untrusted';
  if (/not on record|no account/i.test(message)) return 'notOnRecord';
  return 'refused';
}

/**
 * The signed-challenge sign-in: requestChallenge → sign base64url-decode(toSign) with WebCrypto (ECDSA P1363 /
 * RSA-PSS salt 32) → signIn. The server sets the HttpOnly session cookie.
 */
export async function signInWithIdentity(client: Client, identity: BrowserIdentity): Promise<Me> {
  const challenge = await client.mutation(RequestChallengeMutation, {}).toPromise();
  if (challenge.error || !challenge.data) {
    if (challenge.error?.networkError) throw new SignInError('network');
    throw new SignInError('refused', errorText(challenge.error));
  }
  const toSign = base64urlToBytes(challenge.data.requestChallenge.toSign);
  const params =
    identity.algorithm === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSA-PSS', saltLength: 32 };
  const signature = new Uint8Array(await crypto.subtle.sign(params, identity.privateKey, toSign));
  const result = await client
    .mutation(SignInMutation, {
      certificatePem: identity.certificatePem,
      nonceId: challenge.data.requestChallenge.nonceId,
      signature: bytesToBase64(signature),
      algorithm: identity.algorithm,
    })
    .toPromise();
  if (result.error || !result.data) {
    if (result.error?.networkError) throw new SignInError('network');
    const message = errorText(result.error);
    const kind = classifyRefusal(message);
    throw new SignInError(kind, message.replace(/^sign-in refused:\s*/, ''));
  }
  return result.data.signIn.me;
}
