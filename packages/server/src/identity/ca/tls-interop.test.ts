import './crypto-provider.util.js';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import type { RequestListener } from 'node:http';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import type { CertificateAuthority } from './ca.service.js';
import { toPem } from './pem.util.js';
import { readPkcs12 } from './pkcs12.util.js';
import {
  cleanupTempDirs,
  exec,
  makeCa,
  type OpensslClient,
  opensslForeignClient,
  TEST_P12_PASSWORD,
  TEST_PASSPHRASE,
  tempDir,
} from './test-fixture.util.js';
import { CertificateVerifier } from './verify.service.js';

interface NodeResult {
  status?: number;
  body?: string;
  error?: string;
}

function nodeGet(
  port: number,
  tls: { pfx?: Buffer; passphrase?: string; ca: string; key?: string; cert?: string },
): Promise<NodeResult> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/whoami',
        method: 'GET',
        servername: 'localhost',
        agent: false,
        ...tls,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', (e) => resolve({ error: e.message }));
      },
    );
    req.on('error', (e) => resolve({ error: e.message }));
    req.end();
  });
}

describe('mutual TLS with Node https, curl and openssl s_client', () => {
  let ca: CertificateAuthority;
  let dir: string;
  let server: Server;
  let appServer: Server;
  let port: number;
  let appPort: number;
  let secureConnections = 0;
  let foreign: OpensslClient;
  let pfx: Buffer;
  let pfxSubject: string;
  const p = (f: string) => join(dir, f);

  before(async () => {
    ca = await makeCa();
    dir = await tempDir();
    await writeFile(p('chain.pem'), ca.chainPem);

    const tlsCert = await ca.issueServerCertificate({ hostname: 'localhost' });
    // Client key made by openssl, certified from its CSR.
    const r = await exec('openssl', [
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      p('client.key'),
      '-out',
      p('client.csr'),
      '-subj',
      '/CN=x',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const client = await ca.issueFromCsr(await readFile(p('client.csr')), {
      facility: 'Clinic',
      commonName: 'Curl User',
    });
    await writeFile(p('client.pem'), client.certificatePem);
    const revoked = await ca.issueFromCsr(await readFile(p('client.csr')), {
      facility: 'Clinic',
      commonName: 'Revoked User',
    });
    await writeFile(p('revoked.pem'), revoked.certificatePem);
    const withKey = await ca.issueWithGeneratedKey({
      facility: 'Clinic',
      commonName: 'Pkcs12 User',
      password: TEST_P12_PASSWORD,
    });
    pfx = withKey.pkcs12;
    pfxSubject = withKey.subject;
    foreign = await opensslForeignClient(dir);

    const crl = await ca.generateCrl(
      [{ serialHex: revoked.serialHex, revokedAt: new Date(), reason: 'superseded' }],
      {
        crlNumber: 1,
      },
    );
    // Node's `crl` option checks every CA in the chain (CRL_CHECK_ALL), so the root CRL is needed as well.
    const rootCrl = await ca.generateRootCrl(TEST_PASSPHRASE, [], { crlNumber: 1 });
    const verifier = await CertificateVerifier.create({ caCertificates: ca.chainPem, crl: crl.der });
    const handler: RequestListener = (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      void verifier.verify(peer.raw).then((v) => {
        res.writeHead(v.ok ? 200 : 403, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify(
            v.ok ? { subject: v.identity.subject, serial: v.identity.serialHex } : { reason: v.reason },
          ),
        );
      });
    };
    const tlsOptions = {
      key: tlsCert.privateKeyPem,
      cert: tlsCert.certificatePem + ca.issuingCertificatePem,
      ca: ca.chainPem,
      requestCert: true,
      rejectUnauthorized: true,
    };
    server = createServer({ ...tlsOptions, crl: [crl.pem, rootCrl.pem] }, handler);
    server.on('secureConnection', () => {
      secureConnections++;
    });
    // Without CRLs at TLS level: revocation is then enforced by CertificateVerifier in the handler.
    appServer = createServer(tlsOptions, handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    appPort = (appServer.address() as AddressInfo).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => appServer.close(() => resolve()));
    await cleanupTempDirs();
  });

  const curl = (extra: string[], host = '127.0.0.1', to = port) =>
    exec('curl', [
      '-sS',
      '--max-time',
      '10',
      '--cacert',
      p('chain.pem'),
      ...extra,
      `https://${host}:${to}/whoami`,
    ]);

  it('lets curl in with a client certificate and key (hostname and IP SANs checked)', async () => {
    const r = await curl(['--cert', p('client.pem'), '--key', p('client.key')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).subject, '/DC=ua/DC=medgrid/O=Clinic/CN=Curl User');
    const byName = await curl(
      ['--resolve', `localhost:${port}:127.0.0.1`, '--cert', p('client.pem'), '--key', p('client.key')],
      'localhost',
    );
    assert.equal(byName.code, 0, byName.stderr);
  });

  it('refuses curl without a certificate, with a foreign-CA certificate, and with a revoked one', async () => {
    const none = await curl([]);
    assert.notEqual(none.code, 0);
    assert.doesNotMatch(none.stdout, /subject/);
    const before = secureConnections;
    const alien = await curl(['--cert', foreign.certPath, '--key', foreign.keyPath]);
    assert.notEqual(alien.code, 0);
    assert.doesNotMatch(alien.stdout, /subject|reason/);
    const rv = await curl(['--cert', p('revoked.pem'), '--key', p('client.key')]);
    assert.notEqual(rv.code, 0);
    assert.doesNotMatch(rv.stdout, /subject|reason/);
    // With TLS 1.2 the refusal is a failed handshake (curl 35); Node closes without sending an alert.
    const alien12 = await curl(['--tls-max', '1.2', '--cert', foreign.certPath, '--key', foreign.keyPath]);
    assert.equal(alien12.code, 35, alien12.stderr);
    const rv12 = await curl(['--tls-max', '1.2', '--cert', p('revoked.pem'), '--key', p('client.key')]);
    assert.equal(rv12.code, 35, rv12.stderr);
    // None of these reached a secure connection, let alone the HTTP handler.
    assert.equal(secureConnections, before);
    const ok12 = await curl(['--tls-max', '1.2', '--cert', p('client.pem'), '--key', p('client.key')]);
    assert.equal(ok12.code, 0, ok12.stderr);
    assert.equal(secureConnections, before + 1);
  });

  it('refuses a revoked certificate in the application check when TLS has no CRL', async () => {
    const rv = await curl(
      ['-w', '%{http_code}', '--cert', p('revoked.pem'), '--key', p('client.key')],
      '127.0.0.1',
      appPort,
    );
    assert.equal(rv.code, 0, rv.stderr);
    assert.match(rv.stdout, /"reason":"revoked"\}403$/);
    const ok = await curl(
      ['-w', '%{http_code}', '--cert', p('client.pem'), '--key', p('client.key')],
      '127.0.0.1',
      appPort,
    );
    assert.match(ok.stdout, /Curl User.*200$/);
  });

  it('lets openssl s_client in and refuses its foreign-CA certificate', async () => {
    const req = 'GET /whoami HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';
    const sc = (cert: string, key: string, extra: string[] = []) =>
      exec(
        'openssl',
        [
          's_client',
          '-connect',
          `127.0.0.1:${port}`,
          '-servername',
          'localhost',
          '-verify_hostname',
          'localhost',
          '-CAfile',
          p('chain.pem'),
          '-verify_return_error',
          '-cert',
          cert,
          '-key',
          key,
          '-ign_eof',
          ...extra,
        ],
        req,
      );
    const ok = await sc(p('client.pem'), p('client.key'));
    assert.match(ok.stdout, /Verify return code: 0 \(ok\)/);
    assert.match(ok.stdout, /HTTP\/1\.1 200 OK/);
    assert.match(ok.stdout, /CN=Curl User/);
    const before = secureConnections;
    const bad = await sc(foreign.certPath, foreign.keyPath);
    assert.doesNotMatch(bad.stdout, /HTTP\/1\.1/);
    const bad12 = await sc(foreign.certPath, foreign.keyPath, ['-tls1_2']);
    assert.doesNotMatch(bad12.stdout, /HTTP\/1\.1/);
    assert.notEqual(bad12.code, 0);
    assert.equal(secureConnections, before);
  });

  it('lets Node https in with the PKCS#12 the CA produced and refuses a foreign key pair', async () => {
    const ok = await nodeGet(port, { pfx, passphrase: TEST_P12_PASSWORD, ca: ca.chainPem });
    assert.equal(ok.status, 200, ok.error);
    assert.equal(JSON.parse(ok.body ?? '{}').subject, pfxSubject);
    const bad = await nodeGet(port, {
      ca: ca.chainPem,
      key: await readFile(foreign.keyPath, 'utf8'),
      cert: await readFile(foreign.certPath, 'utf8'),
    });
    assert.notEqual(bad.status, 200);
    assert.ok(bad.error, 'expected a TLS error');
  });

  it('is refused by a client that does not trust the MedGrid CA', async () => {
    // Not via `pfx`: Node adds a PKCS#12's CA certificates to the trusted store.
    const contents = await readPkcs12(pfx, TEST_P12_PASSWORD);
    const r = await nodeGet(port, {
      key: contents.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      cert: toPem(contents.certificateDer, 'CERTIFICATE'),
      ca: await readFile(foreign.caPath, 'utf8'),
    });
    assert.equal(r.status, undefined);
    assert.match(r.error ?? '', /self-signed|unable to verify|issuer/i);
  });
});
