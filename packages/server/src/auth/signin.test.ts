import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CertificateAuthority } from '../identity/ca/index.js';
import { Session } from './auth.entities.js';
import { hashToken } from './auth.service.js';
import {
  account,
  gql,
  type Harness,
  signChallenge,
  signIn,
  startHarness,
  type TestAccount,
} from './test-harness.util.js';

const ME = '{ me { name access via certificateSerial roles { groupPath role } pendingAupVersion } }';

describe('signed-challenge sign-in and sessions', () => {
  let h: Harness;
  let doctor: TestAccount;
  before(async () => {
    h = await startHarness();
    doctor = await account(h, {
      name: 'Olena Doctor',
      facility: 'Kyiv Clinic 1',
      groupPath: '/medgrid/kyiv1/radiology',
    });
  });
  after(() => h.close());

  test('anonymous: me is null and a member-only query is refused with UNAUTHENTICATED', async () => {
    assert.deepEqual((await gql(h, '{ me { name } }')).data, { me: null });
    const r = await gql(h, '{ voGroups { path } }');
    assert.equal(r.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  });

  test('WebCrypto-signed challenge with the PKCS#12 key gives a Secure HttpOnly SameSite=Strict session cookie', async () => {
    const ch = await gql(h, 'mutation { requestChallenge { nonceId nonce toSign expiresAt algorithms } }');
    const c = (ch.data as { requestChallenge: { nonceId: string; nonce: string; algorithms: string[] } })
      .requestChallenge;
    assert.ok(c.algorithms.includes('ECDSA'));
    const signature = await signChallenge(doctor.pkcs12, doctor.password, c.nonceId, c.nonce);
    const r = await gql(
      h,
      'mutation($c: String!, $n: String!, $s: String!) { signIn(certificatePem: $c, nonceId: $n, signature: $s, algorithm: "ECDSA") { me { name access } expiresAt } }',
      { c: doctor.certPem, n: c.nonceId, s: signature },
    );
    assert.equal(r.errors, undefined);
    assert.match(
      r.setCookie!,
      /^medgrid_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict; Max-Age=\d+$/,
    );
    const cookie = r.setCookie!.split(';')[0]!;
    const me = await gql(h, ME, {}, cookie);
    assert.deepEqual(me.data, {
      me: {
        name: 'Olena Doctor',
        access: 'ACTIVE',
        via: 'session',
        certificateSerial: doctor.certificate.serialHex,
        roles: [{ groupPath: '/medgrid/kyiv1/radiology', role: 'DOCTOR' }],
        pendingAupVersion: null,
      },
    });
    // Only the hash of the token is stored.
    const token = cookie.split('=')[1]!;
    const rows = await h.orm.em.fork().find(Session, {});
    assert.ok(rows.some((s) => s.tokenHash === hashToken(token)));
    assert.ok(rows.every((s) => s.tokenHash !== token));
    // Replaying the same nonce is refused.
    const replay = await gql(
      h,
      'mutation($c: String!, $n: String!, $s: String!) { signIn(certificatePem: $c, nonceId: $n, signature: $s, algorithm: "ECDSA") { expiresAt } }',
      { c: doctor.certPem, n: c.nonceId, s: signature },
    );
    assert.equal(replay.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    assert.match(replay.errors![0]!.message, /unknown-nonce/);
    assert.equal(replay.setCookie, undefined);
  });

  test('an expired nonce is refused', async () => {
    const ch = await gql(h, 'mutation { requestChallenge { nonceId nonce } }');
    const c = (ch.data as { requestChallenge: { nonceId: string; nonce: string } }).requestChallenge;
    await h.orm.em
      .fork()
      .getConnection()
      .execute("update auth_challenge set expires_at = now() - interval '1 second' where id = ?", [
        c.nonceId,
      ]);
    const signature = await signChallenge(doctor.pkcs12, doctor.password, c.nonceId, c.nonce);
    const r = await gql(
      h,
      'mutation($c: String!, $n: String!, $s: String!) { signIn(certificatePem: $c, nonceId: $n, signature: $s, algorithm: "ECDSA") { expiresAt } }',
      { c: doctor.certPem, n: c.nonceId, s: signature },
    );
    assert.match(r.errors![0]!.message, /expired-nonce/);
  });

  test('a signature by another key, or a certificate of a foreign CA, is refused', async () => {
    const other = await account(h, {
      name: 'Other Doctor',
      facility: 'Kyiv Clinic 1',
      groupPath: '/medgrid/kyiv1/radiology',
    });
    const ch = await gql(h, 'mutation { requestChallenge { nonceId nonce } }');
    const c = (ch.data as { requestChallenge: { nonceId: string; nonce: string } }).requestChallenge;
    const signature = await signChallenge(other.pkcs12, other.password, c.nonceId, c.nonce);
    const r = await gql(
      h,
      'mutation($c: String!, $n: String!, $s: String!) { signIn(certificatePem: $c, nonceId: $n, signature: $s, algorithm: "ECDSA") { expiresAt } }',
      { c: doctor.certPem, n: c.nonceId, s: signature },
    );
    assert.match(r.errors![0]!.message, /bad-signature/);

    const foreignCa = await CertificateAuthority.create({
      dir: path.join(h.dataDir, 'foreign-ca'),
      passphrase: 'foreign ca passphrase',
      crlBaseUrl: 'https://foreign.test',
      keyAlgorithm: 'ecdsa-p256',
      kdfIterations: 10_000,
    });
    const f = await foreignCa.issueWithGeneratedKey({
      facility: 'Kyiv Clinic 1',
      commonName: 'Olena Doctor',
      password: 'p12-password-for-tests',
    });
    const ch2 = await gql(h, 'mutation { requestChallenge { nonceId nonce } }');
    const c2 = (ch2.data as { requestChallenge: { nonceId: string; nonce: string } }).requestChallenge;
    const sig2 = await signChallenge(f.pkcs12, 'p12-password-for-tests', c2.nonceId, c2.nonce);
    const r2 = await gql(
      h,
      'mutation($c: String!, $n: String!, $s: String!) { signIn(certificatePem: $c, nonceId: $n, signature: $s, algorithm: "ECDSA") { expiresAt } }',
      { c: f.certificatePem, n: c2.nonceId, s: sig2 },
    );
    // Same issuer name as ours, other key: the chain signature does not verify.
    assert.match(r2.errors![0]!.message, /certificate (unknown-ca|bad-signature)/);
  });

  test('purge deletes expired challenges and sessions ended more than a day ago', async () => {
    await h.auth.requestChallenge();
    const em = h.orm.em.fork();
    await em.getConnection().execute("update auth_challenge set expires_at = now() - interval '1 minute'");
    await em.getConnection().execute("update auth_session set expires_at = now() - interval '2 days'");
    const r = await h.auth.purge();
    assert.ok(r.challenges >= 1, JSON.stringify(r));
    assert.ok(r.sessions >= 1, JSON.stringify(r));
    assert.equal(await h.orm.em.fork().count(Session, {}), 0);
  });

  test('signOut ends the session', async () => {
    const cookie = await signIn(h, doctor);
    assert.equal((await gql(h, 'mutation { signOut }', {}, cookie)).data?.signOut, true);
    const r = await gql(h, '{ voGroups { path } }', {}, cookie);
    assert.equal(r.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    assert.match(r.errors![0]!.message, /session ended/);
  });
});
