import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type CertificateAuthority,
  CertificateVerifier,
  type IssuedWithKey,
  readPkcs12,
} from '../ca/index.js';
import {
  cleanupTempDirs,
  exec,
  makeCa,
  TEST_P12_PASSWORD,
  tempDir,
  webCsr,
} from '../ca/test-fixture.util.js';
import { ChallengeService, type ChallengeSignatureAlgorithm, challengeMessage } from './challenge.service.js';
import { InMemoryChallengeStore } from './memory-challenge.store.js';

type Key = webcrypto.CryptoKey;

/** What the doctor's browser does: sign the challenge bytes with WebCrypto. */
async function browserSign(
  key: Key,
  algorithm: ChallengeSignatureAlgorithm,
  toSign: string,
): Promise<string> {
  const params =
    algorithm === 'ECDSA'
      ? { name: 'ECDSA', hash: 'SHA-256' }
      : algorithm === 'RSA-PSS'
        ? { name: 'RSA-PSS', saltLength: 32 }
        : { name: 'RSASSA-PKCS1-v1_5' };
  const sig = await webcrypto.subtle.sign(params, key, Buffer.from(toSign, 'base64url'));
  return Buffer.from(sig).toString('base64');
}

async function importPkcs8(pkcs8: Buffer, algorithm: ChallengeSignatureAlgorithm): Promise<Key> {
  const params =
    algorithm === 'ECDSA' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: algorithm, hash: 'SHA-256' };
  return webcrypto.subtle.importKey('pkcs8', pkcs8, params, false, ['sign']);
}

describe('signed-challenge login', () => {
  let ca: CertificateAuthority;
  let dir: string;
  let now: Date;
  let store: InMemoryChallengeStore;
  let service: ChallengeService;
  let verifier: CertificateVerifier;
  let ec: IssuedWithKey;
  let ecKey: Key;
  let rsa: IssuedWithKey;
  let rsaPkcs8: Buffer;
  let revoked: IssuedWithKey;
  let revokedKey: Key;

  before(async () => {
    ca = await makeCa();
    dir = await tempDir();
    now = new Date();
    const clock = () => now;
    ec = await ca.issueWithGeneratedKey({
      facility: 'Clinic',
      commonName: 'Browser Doctor',
      password: TEST_P12_PASSWORD,
    });
    // The EC key comes out of the PKCS#12 through pkijs, as the doctor-app does in the page.
    const p12 = await readPkcs12(ec.pkcs12, TEST_P12_PASSWORD);
    ecKey = await importPkcs8(p12.privateKey.export({ format: 'der', type: 'pkcs8' }), 'ECDSA');
    // The RSA key comes out through the openssl CLI.
    rsa = await ca.issueWithGeneratedKey({
      facility: 'Clinic',
      commonName: 'Rsa Doctor',
      password: TEST_P12_PASSWORD,
      keyType: 'rsa-2048',
    });
    await writeFile(join(dir, 'rsa.p12'), rsa.pkcs12);
    const out = await exec('openssl', [
      'pkcs12',
      '-in',
      join(dir, 'rsa.p12'),
      '-nocerts',
      '-nodes',
      '-passin',
      `pass:${TEST_P12_PASSWORD}`,
    ]);
    assert.equal(out.code, 0, out.stderr);
    await writeFile(join(dir, 'rsa.key'), out.stdout);
    const der = await exec('openssl', [
      'pkcs8',
      '-topk8',
      '-nocrypt',
      '-in',
      join(dir, 'rsa.key'),
      '-outform',
      'DER',
    ]);
    assert.equal(der.code, 0, der.stderr);
    rsaPkcs8 = der.stdoutBytes;
    revoked = await ca.issueWithGeneratedKey({
      facility: 'Clinic',
      commonName: 'Gone Doctor',
      password: TEST_P12_PASSWORD,
    });
    revokedKey = await importPkcs8(
      (await readPkcs12(revoked.pkcs12, TEST_P12_PASSWORD)).privateKey.export({
        format: 'der',
        type: 'pkcs8',
      }),
      'ECDSA',
    );
    const crl = await ca.generateCrl(
      [{ serialHex: revoked.serialHex, revokedAt: now, reason: 'keyCompromise' }],
      { crlNumber: 1, thisUpdate: now },
    );
    verifier = await CertificateVerifier.create({ caCertificates: ca.chainPem, crl: crl.der });
    store = new InMemoryChallengeStore({ clock });
    service = new ChallengeService({ store, verifier: () => verifier, clock });
  });
  after(cleanupTempDirs);

  it('issues 32-byte single-use nonces that expire after 120 s', async () => {
    const a = await service.create();
    const b = await service.create();
    assert.equal(Buffer.from(a.nonce, 'base64url').length, 32);
    assert.notEqual(a.nonceId, b.nonceId);
    assert.notEqual(a.nonce, b.nonce);
    assert.equal(a.expiresAt.getTime() - now.getTime(), 120_000);
    assert.deepEqual(
      Buffer.from(a.toSign, 'base64url'),
      challengeMessage(a.nonceId, Buffer.from(a.nonce, 'base64url')),
    );
    assert.match(Buffer.from(a.toSign, 'base64url').toString(), /^medgrid-login-v1:/);
  });

  it('accepts an ECDSA P-256 signature made with the key from the PKCS#12', async () => {
    const c = await service.create();
    const signature = await browserSign(ecKey, 'ECDSA', c.toSign);
    assert.equal(Buffer.from(signature, 'base64').length, 64); // P1363, as browsers produce
    const r = await service.verify({
      certificatePem: ec.certificatePem,
      nonceId: c.nonceId,
      signature,
      algorithm: 'ECDSA',
    });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.ok && r.identity.subject, '/DC=ua/DC=medgrid/O=Clinic/CN=Browser Doctor');
    assert.equal(r.ok && r.identity.serialHex, ec.serialHex);
  });

  it('refuses a replayed nonce', async () => {
    const c = await service.create();
    const signature = await browserSign(ecKey, 'ECDSA', c.toSign);
    const response = {
      certificatePem: ec.certificatePem,
      nonceId: c.nonceId,
      signature,
      algorithm: 'ECDSA' as const,
    };
    assert.equal((await service.verify(response)).ok, true);
    const again = await service.verify(response);
    assert.equal(!again.ok && again.reason, 'unknown-nonce');
  });

  it('refuses an expired nonce', async () => {
    const c = await service.create();
    const signature = await browserSign(ecKey, 'ECDSA', c.toSign);
    const saved = now;
    now = new Date(saved.getTime() + 120_000);
    try {
      const r = await service.verify({
        certificatePem: ec.certificatePem,
        nonceId: c.nonceId,
        signature,
        algorithm: 'ECDSA',
      });
      assert.equal(!r.ok && r.reason, 'expired-nonce');
    } finally {
      now = saved;
    }
  });

  it('refuses a signature by another key, and burns the nonce on the failed attempt', async () => {
    const c = await service.create();
    const other = await webCsr('ec-p256', 'CN=x', true);
    const forged = await browserSign(other.keys.privateKey, 'ECDSA', c.toSign);
    const r = await service.verify({
      certificatePem: ec.certificatePem,
      nonceId: c.nonceId,
      signature: forged,
      algorithm: 'ECDSA',
    });
    assert.equal(!r.ok && r.reason, 'bad-signature');
    const good = await browserSign(ecKey, 'ECDSA', c.toSign);
    const retry = await service.verify({
      certificatePem: ec.certificatePem,
      nonceId: c.nonceId,
      signature: good,
      algorithm: 'ECDSA',
    });
    assert.equal(!retry.ok && retry.reason, 'unknown-nonce');
  });

  it('refuses a signature over another challenge', async () => {
    const c1 = await service.create();
    const c2 = await service.create();
    const signature = await browserSign(ecKey, 'ECDSA', c1.toSign);
    const r = await service.verify({
      certificatePem: ec.certificatePem,
      nonceId: c2.nonceId,
      signature,
      algorithm: 'ECDSA',
    });
    assert.equal(!r.ok && r.reason, 'bad-signature');
  });

  for (const algorithm of ['RSA-PSS', 'RSASSA-PKCS1-v1_5'] as const) {
    it(`accepts ${algorithm} with the RSA key extracted by openssl`, async () => {
      const key = await importPkcs8(rsaPkcs8, algorithm);
      const c = await service.create();
      const signature = Buffer.from(await browserSign(key, algorithm, c.toSign), 'base64').toString(
        'base64url',
      );
      const r = await service.verify({
        certificatePem: rsa.certificateDer,
        nonceId: c.nonceId,
        signature,
        algorithm,
      });
      assert.equal(r.ok, true, JSON.stringify(r));
    });
  }

  it('refuses an algorithm that does not fit the key, or a mislabelled RSA scheme', async () => {
    const c = await service.create();
    const pss = await browserSign(await importPkcs8(rsaPkcs8, 'RSA-PSS'), 'RSA-PSS', c.toSign);
    const r = await service.verify({
      certificatePem: rsa.certificatePem,
      nonceId: c.nonceId,
      signature: pss,
      algorithm: 'ECDSA',
    });
    assert.equal(!r.ok && r.reason, 'unsupported-algorithm');
    const c2 = await service.create();
    const pss2 = await browserSign(await importPkcs8(rsaPkcs8, 'RSA-PSS'), 'RSA-PSS', c2.toSign);
    const r2 = await service.verify({
      certificatePem: rsa.certificatePem,
      nonceId: c2.nonceId,
      signature: pss2,
      algorithm: 'RSASSA-PKCS1-v1_5',
    });
    assert.equal(!r2.ok && r2.reason, 'bad-signature');
    const c3 = await service.create();
    const r3 = await service.verify({
      certificatePem: ec.certificatePem,
      nonceId: c3.nonceId,
      signature: 'AAAA',
      algorithm: 'Ed25519' as ChallengeSignatureAlgorithm,
    });
    assert.equal(!r3.ok && r3.reason, 'unsupported-algorithm');
  });

  it('refuses revoked and foreign certificates even with a correct signature', async () => {
    const c = await service.create();
    const signature = await browserSign(revokedKey, 'ECDSA', c.toSign);
    const r = await service.verify({
      certificatePem: revoked.certificatePem,
      nonceId: c.nonceId,
      signature,
      algorithm: 'ECDSA',
    });
    assert.equal(!r.ok && r.reason, 'certificate');
    assert.equal(!r.ok && r.certificateReason, 'revoked');

    const foreignCa = await makeCa();
    const foreign = await foreignCa.issueWithGeneratedKey({
      facility: 'Clinic',
      commonName: 'Browser Doctor',
      password: TEST_P12_PASSWORD,
    });
    const fKey = await importPkcs8(
      (await readPkcs12(foreign.pkcs12, TEST_P12_PASSWORD)).privateKey.export({
        format: 'der',
        type: 'pkcs8',
      }),
      'ECDSA',
    );
    const c2 = await service.create();
    const fr = await service.verify({
      certificatePem: foreign.certificatePem,
      nonceId: c2.nonceId,
      signature: await browserSign(fKey, 'ECDSA', c2.toSign),
      algorithm: 'ECDSA',
    });
    assert.equal(!fr.ok && fr.reason, 'certificate');
    assert.equal(!fr.ok && fr.certificateReason, 'bad-signature');
  });

  it('refuses service-account certificates unless allowed', async () => {
    const gw = await ca.issueWithGeneratedKey({
      profile: 'service',
      facility: 'Clinic',
      commonName: 'gateway',
      password: TEST_P12_PASSWORD,
    });
    const key = await importPkcs8(
      (await readPkcs12(gw.pkcs12, TEST_P12_PASSWORD)).privateKey.export({ format: 'der', type: 'pkcs8' }),
      'ECDSA',
    );
    const c = await service.create();
    const r = await service.verify({
      certificatePem: gw.certificatePem,
      nonceId: c.nonceId,
      signature: await browserSign(key, 'ECDSA', c.toSign),
      algorithm: 'ECDSA',
    });
    assert.equal(!r.ok && r.reason, 'wrong-profile');
    const lenient = new ChallengeService({
      store,
      verifier: () => verifier,
      clock: () => now,
      allowedKinds: ['client', 'service'],
    });
    const c2 = await lenient.create();
    const r2 = await lenient.verify({
      certificatePem: gw.certificatePem,
      nonceId: c2.nonceId,
      signature: await browserSign(key, 'ECDSA', c2.toSign),
      algorithm: 'ECDSA',
    });
    assert.equal(r2.ok, true);
  });

  it('refuses malformed input and unknown nonces', async () => {
    const base = { certificatePem: ec.certificatePem, signature: 'AAAA', algorithm: 'ECDSA' as const };
    const a = await service.verify({ ...base, nonceId: '../../etc' });
    assert.equal(!a.ok && a.reason, 'malformed');
    const b = await service.verify({ ...base, nonceId: 'A'.repeat(22) });
    assert.equal(!b.ok && b.reason, 'unknown-nonce');
    const c = await service.create();
    const d = await service.verify({ ...base, nonceId: c.nonceId, signature: 'not base64!' });
    assert.equal(!d.ok && d.reason, 'malformed');
    const c2 = await service.create();
    const e = await service.verify({ ...base, nonceId: c2.nonceId, certificatePem: 'nope' });
    assert.equal(!e.ok && e.reason, 'malformed');
  });

  it('keeps the in-memory store bounded and purges expired challenges', async () => {
    let t = new Date('2026-01-01T00:00:00Z');
    const small = new InMemoryChallengeStore({ maxEntries: 3, clock: () => t });
    const svc = new ChallengeService({ store: small, verifier: () => verifier, clock: () => t });
    const first = await svc.create();
    await svc.create();
    await svc.create();
    await svc.create();
    assert.equal(small.size, 3);
    assert.equal(await small.take(first.nonceId), undefined); // oldest evicted
    t = new Date(t.getTime() + 121_000);
    assert.equal(await small.purgeExpired(t), 3);
    assert.equal(small.size, 0);
  });
});
