import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createGraphqlClient } from '../graphql/client.js';
import { graphqlServer, testMe } from '../test-support/index.js';
import { classifyRefusal, SignInError, signInWithIdentity } from './identity.js';
import { openPkcs12 } from './pkcs12.js';

// Fixtures made with OpenSSL 3 defaults (PBES2 AES-256-CBC, PBKDF2-HMAC-SHA256, SHA-256 MAC), password correct-horse.
const fixture = (name: string) => {
  const b = readFileSync(`src/sign-in/fixtures/${name}`); // vitest runs from the package folder
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
};

function b64urlToBytes(s: string) {
  return Uint8Array.from(Buffer.from(s, 'base64url'));
}

describe('openPkcs12', () => {
  it('opens an EC P-256 PKCS#12 and imports the key as non-extractable', async () => {
    const id = await openPkcs12(fixture('ec-p256.p12'), 'correct-horse');
    expect(id.algorithm).toBe('ECDSA');
    expect(id.name).toBe('Fixture Doctor');
    expect(id.privateKey.extractable).toBe(false);
    expect(id.privateKey.usages).toEqual(['sign']);
    expect(id.certificatePem).toMatch(
      /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/,
    );
  });

  it('opens an RSA PKCS#12 for RSA-PSS', async () => {
    const id = await openPkcs12(fixture('rsa-2048.p12'), 'correct-horse');
    expect(id.algorithm).toBe('RSA-PSS');
    expect(id.privateKey.extractable).toBe(false);
  });

  it('says the password is wrong', async () => {
    await expect(openPkcs12(fixture('ec-p256.p12'), 'wrong')).rejects.toMatchObject({
      kind: 'wrongPassword',
    });
  });

  it('says a file that is not PKCS#12 is not one', async () => {
    const junk = new TextEncoder().encode('hello, not DER').buffer as ArrayBuffer;
    await expect(openPkcs12(junk, 'x')).rejects.toMatchObject({ kind: 'notPkcs12' });
  });
});

describe('signInWithIdentity', () => {
  it('signs medgrid-login-v1:<id>:<nonce> with the key and sends certificate, nonce id, signature, algorithm', async () => {
    const id = await openPkcs12(fixture('ec-p256.p12'), 'correct-horse');
    const message = 'medgrid-login-v1:AAAAAAAAAAAAAAAAAAAAAA:bm9uY2U';
    const server = graphqlServer({
      RequestChallenge: {
        data: {
          requestChallenge: {
            nonceId: 'AAAAAAAAAAAAAAAAAAAAAA',
            toSign: Buffer.from(message).toString('base64url'),
            expiresAt: '2030-01-01T00:00:00Z',
            algorithms: ['ECDSA'],
          },
        },
      },
      SignIn: {
        data: { signIn: { me: testMe({ name: 'Fixture Doctor' }), expiresAt: '2030-01-01T00:00:00Z' } },
      },
    });
    const client = createGraphqlClient({
      url: 'http://127.0.0.1/graphql',
      fetch: server.fetch,
      persistedQueries: false,
    });
    const me = await signInWithIdentity(client, id);
    expect(me.name).toBe('Fixture Doctor');
    const vars = server.requests.find((r) => r.body.operationName === 'SignIn')?.body.variables ?? {};
    expect(vars).toMatchObject({
      nonceId: 'AAAAAAAAAAAAAAAAAAAAAA',
      algorithm: 'ECDSA',
      certificatePem: id.certificatePem,
    });
    const signature = Uint8Array.from(Buffer.from(String(vars.signature), 'base64'));
    expect(signature).toHaveLength(64); // WebCrypto's r‖s form

    // Verify with the certificate's public key, as the server does.
    const { X509Certificate } = await import('node:crypto');
    const publicKey = new X509Certificate(id.certificatePem).publicKey;
    const { verify } = await import('node:crypto');
    expect(
      verify(
        'sha256',
        new TextEncoder().encode(message),
        { key: publicKey, dsaEncoding: 'ieee-p1363' },
        signature,
      ),
    ).toBe(true);
    expect(b64urlToBytes(Buffer.from(message).toString('base64url'))).toEqual(
      new TextEncoder().encode(message),
    );
  });

  it('turns the server refusal into a clear reason', async () => {
    const id = await openPkcs12(fixture('ec-p256.p12'), 'correct-horse');
    const server = graphqlServer({
      RequestChallenge: {
        data: {
          requestChallenge: { nonceId: 'x', toSign: 'AA', expiresAt: '2030-01-01T00:00:00Z', algorithms: [] },
        },
      },
      SignIn: {
        data: null,
        errors: [
          { message: 'sign-in refused: certificate revoked', extensions: { code: 'UNAUTHENTICATED' } },
        ],
      },
    });
    const client = createGraphqlClient({
      url: 'http://127.0.0.1/graphql',
      fetch: server.fetch,
      persistedQueries: false,
    });
    const error = await signInWithIdentity(client, id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignInError);
    expect(error).toMatchObject({ kind: 'revoked' });
  });

  it('classifies the server refusals', () => {
    expect(classifyRefusal('sign-in refused: certificate revoked')).toBe('revoked');
    expect(classifyRefusal('sign-in refused: certificate expired')).toBe('expired');
    expect(classifyRefusal('sign-in refused: certificate not-yet-valid')).toBe('notYetValid');
    expect(classifyRefusal('sign-in refused: certificate unknown-ca')).toBe('untrusted');
    expect(classifyRefusal('sign-in refused: certificate not on record')).toBe('notOnRecord');
    expect(classifyRefusal('sign-in refused: expired-nonce')).toBe('refused');
    expect(classifyRefusal('sign-in refused: bad-signature')).toBe('refused');
  });
});
