import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  account,
  type Harness,
  httpsGql,
  signChallenge,
  startHarness,
  type TestAccount,
} from '../../auth/test-harness.util.js';
import { RateLimiter } from './challenge-rate.limiter.js';

const CHALLENGE = 'mutation { requestChallenge { nonceId nonce } }';

test('token bucket: a burst of N per minute, then one more every 60/N s; the wait is announced', () => {
  let now = Date.parse('2026-11-25T12:00:00Z');
  const l = new RateLimiter(3, () => new Date(now));
  assert.deepEqual([l.take('a'), l.take('a'), l.take('a')], [0, 0, 0]);
  assert.equal(l.take('a'), 20, 'one token comes back every 20 s');
  assert.equal(l.take('b'), 0, 'another key has its own bucket');
  now += 19_000;
  assert.equal(l.take('a'), 1);
  now += 1_000;
  assert.equal(l.take('a'), 0);
  assert.equal(l.take('a'), 20);
});

describe('requestChallenge / signIn rate limits (per client address, per certificate), through the real API', () => {
  let h: Harness;
  let doctor: TestAccount;
  // A controllable clock that starts now (certificates are issued as of real time).
  let now = Date.now();
  before(async () => {
    h = await startHarness({
      tls: true,
      clock: () => new Date(now),
      settings: { signInRate: { perAddress: 3, perCertificate: 2 } },
    });
    doctor = await account(h, { name: 'Rate Doctor', facility: 'Kyiv Clinic 1' });
  });
  after(() => h.close());

  const challengeFrom = (remoteAddress: string) =>
    h.app.inject({ method: 'POST', url: '/graphql', remoteAddress, payload: { query: CHALLENGE } });

  test('an address past its limit gets RATE_LIMITED, HTTP 429 and Retry-After; other addresses are not affected; it recovers', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await challengeFrom('192.0.2.10')).statusCode, 200);
    const r = await challengeFrom('192.0.2.10');
    assert.equal(r.statusCode, 429);
    assert.equal(r.headers['retry-after'], '20');
    const body = r.json();
    assert.equal(body.data, null);
    assert.equal(body.errors[0].extensions.code, 'RATE_LIMITED');
    assert.equal(body.errors[0].extensions.retryAfterSeconds, 20);
    assert.equal(body.errors[0].extensions.http, undefined, 'transport details stay out of the body');
    assert.match(body.errors[0].message, /too many sign-in challenges from this address; try again in 20 s/);
    const other = await challengeFrom('192.0.2.11');
    assert.equal(other.statusCode, 200);
    assert.ok(other.json().data.requestChallenge.nonceId);
    now += 20_000;
    assert.equal((await challengeFrom('192.0.2.10')).statusCode, 200, 'one challenge again after 20 s');
    assert.equal((await challengeFrom('192.0.2.10')).statusCode, 429);
  });

  test('signIn attempts with one certificate are limited whatever the address; the nonce is not spent by a refusal', async () => {
    const signInFrom = async (remoteAddress: string, signature: string, nonceId: string) =>
      h.app.inject({
        method: 'POST',
        url: '/graphql',
        remoteAddress,
        payload: {
          query:
            'mutation($c: String!, $n: String!, $s: String!) { signIn(certificatePem: $c, nonceId: $n, signature: $s, algorithm: "ECDSA") { me { name } } }',
          variables: { c: doctor.certificate.pem, n: nonceId, s: signature },
        },
      });
    const nonce = async (addr: string) =>
      (await challengeFrom(addr)).json().data.requestChallenge as { nonceId: string; nonce: string };
    const bad = Buffer.alloc(64, 1).toString('base64url');
    for (const addr of ['198.51.100.1', '198.51.100.2']) {
      const c = await nonce(addr);
      const r = (await signInFrom(addr, bad, c.nonceId)).json();
      assert.equal(r.errors[0].extensions.code, 'UNAUTHENTICATED');
    }
    const c = await nonce('198.51.100.3');
    const good = await signChallenge(doctor.pkcs12, doctor.password, c.nonceId, c.nonce);
    const limited = await signInFrom('198.51.100.3', good, c.nonceId);
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().errors[0].extensions.code, 'RATE_LIMITED');
    assert.match(
      limited.json().errors[0].message,
      /too many sign-in attempts with this certificate; try again in 30 s/,
    );
    now += 30_000;
    const ok = await signInFrom('198.51.100.3', good, c.nonceId);
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().data?.signIn?.me?.name, 'Rate Doctor', ok.body);
  });

  test('over mutual TLS the client certificate has its own challenge budget', async () => {
    now += 120_000;
    const creds = { keyPem: doctor.keyPem, certPem: doctor.certificate.pem };
    // perCertificate is 2: the third challenge on a connection presenting this certificate is refused.
    assert.ok((await httpsGql(h, CHALLENGE, {}, creds)).data);
    assert.ok((await httpsGql(h, CHALLENGE, {}, creds)).data);
    const r = await httpsGql(h, CHALLENGE, {}, creds);
    assert.equal(r.status, 429);
    assert.equal(r.errors?.[0]?.extensions?.code, 'RATE_LIMITED');
    assert.match(r.errors![0]!.message, /with this certificate/);
  });
});
