import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI_ACTOR } from '../audit/audit.service.js';
import { DEVELOPMENT_CA_PASSPHRASE } from '../config/config.js';
import { CertificateAuthority, readPkcs12 } from '../identity/ca/index.js';
import { exec } from '../identity/ca/test-fixture.util.js';
import { CertificateService } from '../identity/certificates/certificate.service.js';
import { Membership } from '../vo/vo.entities.js';
import { VoService } from '../vo/vo.service.js';
import {
  account,
  baseUrl,
  type ClientCredentials,
  type Harness,
  httpsGql,
  httpsRequest,
  startHarness,
  type TestAccount,
} from './test-harness.util.js';

const DAY = 864e5;
const code = (r: { errors?: { extensions?: { code?: string } }[] }) =>
  r.errors?.[0]?.extensions?.code ?? 'OK';

describe('mutual TLS acceptance: Node https, curl and openssl s_client against the running server', () => {
  let h: Harness;
  let dir: string;
  let chainFile: string;
  const files = new Map<string, { cert: string; key: string }>();
  let doctor: TestAccount;
  let expired: ClientCredentials;
  let foreign: ClientCredentials;

  async function save(name: string, c: ClientCredentials) {
    const cert = path.join(dir, `${name}.pem`);
    const key = path.join(dir, `${name}.key`);
    await writeFile(cert, c.certPem);
    await writeFile(key, c.keyPem, { mode: 0o600 });
    files.set(name, { cert, key });
  }

  const curl = (args: string[]) => exec('curl', ['-sS', '--max-time', '10', '--cacert', chainFile, ...args]);
  const curlGql = (query: string, who?: string) => {
    const f = who ? files.get(who)! : undefined;
    return curl([
      ...(f ? ['--cert', f.cert, '--key', f.key] : []),
      '-H',
      'content-type: application/json',
      '--data',
      JSON.stringify({ query }),
      `${baseUrl(h)}/graphql`,
    ]);
  };

  before(async () => {
    // The CA exists since 10 days, so a certificate that ended 4 days ago can be made for the expiry case.
    h = await startHarness({ tls: true, caCreatedAt: new Date(Date.now() - 10 * DAY) });
    dir = h.dataDir;
    chainFile = path.join(dir, 'client-ca.pem');
    doctor = await account(h, { name: 'TLS Doctor', facility: 'Kyiv1', groupPath: '/medgrid/kyiv1' });
    await save('doctor', doctor);
    const past = await CertificateAuthority.load({
      dir: path.join(dir, 'ca'),
      passphrase: DEVELOPMENT_CA_PASSPHRASE,
      crlBaseUrl: 'https://127.0.0.1',
      clock: () => new Date(Date.now() - 5 * DAY),
    });
    const old = await past.issueWithGeneratedKey({
      facility: 'Kyiv1',
      commonName: 'Old Doctor',
      validityDays: 1,
      password: 'p12-password-for-tests',
    });
    const oldP12 = await readPkcs12(old.pkcs12, 'p12-password-for-tests');
    expired = {
      certPem: old.certificatePem,
      keyPem: oldP12.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    };
    await save('expired', expired);
    const other = await CertificateAuthority.create({
      dir: path.join(dir, 'foreign-ca'),
      passphrase: 'another ca passphrase',
      crlBaseUrl: 'https://foreign.test',
      keyAlgorithm: 'ecdsa-p256',
      kdfIterations: 10_000,
    });
    const f = await other.issueWithGeneratedKey({
      facility: 'Kyiv1',
      commonName: 'TLS Doctor',
      password: 'p12-password-for-tests',
    });
    const fP12 = await readPkcs12(f.pkcs12, 'p12-password-for-tests');
    foreign = {
      certPem: f.certificatePem,
      keyPem: fP12.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    };
    await save('foreign', foreign);
  });
  after(() => h.close());

  test('valid certificate + active membership: allowed (Node https and curl), identified by mTLS', async () => {
    const r = await httpsGql(h, '{ me { name via access } voGroups { path } }', {}, doctor);
    assert.equal(code(r), 'OK');
    assert.deepEqual((r.data as { me: unknown }).me, { name: 'TLS Doctor', via: 'mtls', access: 'ACTIVE' });
    const c = await curlGql('{ me { via certificateSerial } }', 'doctor');
    assert.equal(c.code, 0, c.stderr);
    assert.deepEqual(JSON.parse(c.stdout), {
      data: { me: { via: 'mtls', certificateSerial: doctor.certificate.serialHex } },
    });
  });

  test('valid certificate with openssl s_client: the handshake and a GraphQL request succeed', async () => {
    const f = files.get('doctor')!;
    const body = JSON.stringify({ query: '{ me { via } }' });
    const req = `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    const port = new URL(baseUrl(h)).port;
    const r = await exec(
      'openssl',
      [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        '-CAfile',
        chainFile,
        '-cert',
        f.cert,
        '-key',
        f.key,
        '-verify_return_error',
        '-quiet',
      ],
      req,
    );
    assert.match(r.stdout, /HTTP\/1\.1 200/);
    assert.match(r.stdout, /"via":"mtls"/);
  });

  test('no client certificate: public routes work, protected operations are refused', async () => {
    assert.equal((await httpsRequest(h, '/healthz')).status, 200);
    const chain = await curl([`${baseUrl(h)}/ca/ca.pem`]);
    assert.match(chain.stdout, /-----BEGIN CERTIFICATE-----/);
    const c = await curlGql('{ voGroups { path } }');
    assert.equal(JSON.parse(c.stdout).errors[0].extensions.code, 'UNAUTHENTICATED');
    assert.equal(code(await httpsGql(h, '{ certificates { edges { cursor } } }')), 'UNAUTHENTICATED');
  });

  test('a certificate from a foreign CA is refused at the TLS layer', async () => {
    await assert.rejects(
      httpsGql(h, '{ me { name } }', {}, foreign),
      /ECONNRESET|socket hang up|alert|EPIPE/,
    );
    const c = await curlGql('{ me { name } }', 'foreign');
    assert.notEqual(c.code, 0);
    assert.equal(c.stdout, '');
    const f = files.get('foreign')!;
    const port = new URL(baseUrl(h)).port;
    const s = await exec(
      'openssl',
      [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        '-CAfile',
        chainFile,
        '-cert',
        f.cert,
        '-key',
        f.key,
        '-quiet',
      ],
      'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    );
    assert.doesNotMatch(s.stdout, /HTTP\/1\.1/);
  });

  test('an expired certificate is refused', async () => {
    await assert.rejects(
      httpsGql(h, '{ me { name } }', {}, expired),
      /ECONNRESET|socket hang up|alert|EPIPE/,
    );
    const c = await curlGql('{ me { name } }', 'expired');
    assert.notEqual(c.code, 0);
  });

  test('a suspended membership is refused; an unaccepted AUP allows only acceptAup', async () => {
    const d2 = await account(h, { name: 'Suspended TLS', facility: 'Kyiv1', groupPath: '/medgrid/kyiv1' });
    const em = h.orm.em.fork();
    const vo = new VoService(em, h.identity.voOptions());
    const m = await em.findOneOrFail(Membership, { userId: d2.user.id });
    await vo.suspend(CLI_ACTOR, null, m.id, 'test');
    h.identity.authCache.clear();
    assert.equal(code(await httpsGql(h, '{ voGroups { path } }', {}, d2)), 'FORBIDDEN');

    const aup = await vo.publishAup(CLI_ACTOR, 'Rules.', new Date(Date.now() + DAY));
    h.identity.authCache.clear();
    assert.equal(code(await httpsGql(h, '{ voGroups { path } }', {}, doctor)), 'AUP_NOT_ACCEPTED');
    const acc = await httpsGql(h, `mutation { acceptAup(version: ${aup.version}) }`, {}, doctor);
    assert.deepEqual(acc.data, { acceptAup: true });
    assert.equal(code(await httpsGql(h, '{ voGroups { path } }', {}, doctor)), 'OK');
  });

  test('with -crl_check_all, openssl verifies against /ca/crl.pem plus /ca/root-crl.pem, and refuses without the root CRL', async () => {
    const crlFile = path.join(dir, 'all-crl.pem');
    const rootCrlFile = path.join(dir, 'root-crl.pem');
    assert.equal((await curl(['-o', crlFile, `${baseUrl(h)}/ca/crl.pem`])).code, 0);
    assert.equal((await curl(['-o', rootCrlFile, `${baseUrl(h)}/ca/root-crl.pem`])).code, 0);
    const verify = (crls: string[]) =>
      exec('openssl', [
        'verify',
        '-crl_check_all',
        '-CAfile',
        chainFile,
        ...crls.flatMap((f) => ['-CRLfile', f]),
        files.get('doctor')!.cert,
      ]);
    const ok = await verify([crlFile, rootCrlFile]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const noRoot = await verify([crlFile]);
    assert.notEqual(noRoot.code, 0);
    assert.match(noRoot.stdout + noRoot.stderr, /unable to get certificate CRL/);
    const der = path.join(dir, 'root-crl.der');
    assert.equal((await curl(['-o', der, `${baseUrl(h)}/ca/root-crl.der`])).code, 0);
    const text = await exec('openssl', [
      'crl',
      '-inform',
      'DER',
      '-in',
      der,
      '-noout',
      '-issuer',
      '-nextupdate',
    ]);
    assert.match(text.stdout, /CN ?= ?MedGrid Root CA/);
    const nextUpdate = new Date(/nextUpdate=(.*)/.exec(text.stdout)![1]!);
    assert.ok(
      nextUpdate.getTime() - Date.now() > 300 * DAY,
      `root CRL valid until ${nextUpdate.toISOString()}`,
    );
  });

  test('a revoked certificate is refused once the CRL is updated; openssl verify sees it in /ca/crl.pem', async () => {
    assert.equal(code(await httpsGql(h, '{ voGroups { path } }', {}, doctor)), 'OK');
    await new CertificateService(h.orm.em.fork(), h.identity).revoke(
      CLI_ACTOR,
      doctor.certificate.serialHex,
      'keyCompromise',
    );
    const r = await httpsGql(h, '{ voGroups { path } }', {}, doctor);
    assert.equal(code(r), 'UNAUTHENTICATED');
    assert.match(r.errors![0]!.message, /revoked/);
    const crlFile = path.join(dir, 'crl.pem');
    const crl = await curl(['-o', crlFile, `${baseUrl(h)}/ca/crl.pem`]);
    assert.equal(crl.code, 0);
    const v = await exec('openssl', [
      'verify',
      '-crl_check',
      '-CAfile',
      chainFile,
      '-CRLfile',
      crlFile,
      files.get('doctor')!.cert,
    ]);
    assert.notEqual(v.code, 0);
    assert.match(v.stdout + v.stderr, /certificate revoked/);
    const der = await curl(['-o', path.join(dir, 'crl.der'), `${baseUrl(h)}/ca/crl.der`]);
    assert.equal(der.code, 0);
    const t = await exec('openssl', [
      'crl',
      '-inform',
      'DER',
      '-in',
      path.join(dir, 'crl.der'),
      '-noout',
      '-text',
    ]);
    assert.match(t.stdout, new RegExp(doctor.certificate.serialHex.toUpperCase()));
    assert.match(t.stdout, /Key Compromise/);
  });
});
