import './crypto-provider.util.js';
import assert from 'node:assert/strict';
import { createPublicKey, webcrypto } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import { CaPassphraseError, CaStoreError, CsrError, KeyPolicyError, ProfileError } from './ca.errors.js';
import { CertificateAuthority } from './ca.service.js';
import { cleanupTempDirs, exec, makeCa, TEST_PASSPHRASE, tempDir, webCsr } from './test-fixture.util.js';

const EKU_CLIENT = '1.3.6.1.5.5.7.3.2';
const EKU_SERVER = '1.3.6.1.5.5.7.3.1';

describe('CertificateAuthority storage', () => {
  let dir: string;
  let ca: CertificateAuthority;
  const opts = () => ({
    dir,
    passphrase: TEST_PASSPHRASE,
    crlBaseUrl: 'https://medgrid.test/',
    kdfIterations: 20_000,
  });

  before(async () => {
    dir = join(await tempDir(), 'ca');
    ca = await CertificateAuthority.create(opts());
  });
  after(cleanupTempDirs);

  it('writes encrypted PKCS#8 keys (0600) that OpenSSL reads only with the passphrase', async () => {
    for (const f of ['root-ca.key.pem', 'issuing-ca.key.pem']) {
      const path = join(dir, f);
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      const pem = await readFile(path, 'utf8');
      assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      const parsed = await exec('openssl', ['asn1parse', '-in', path]);
      assert.match(parsed.stdout, /PBES2/);
      assert.match(parsed.stdout, /PBKDF2/);
      assert.match(parsed.stdout, /hmacWithSHA256/);
      assert.match(parsed.stdout, /aes-256-cbc/);
      assert.match(parsed.stdout, /INTEGER\s+:4E20/); // 20000 iterations
      const ok = await exec('openssl', ['pkey', '-in', path, '-passin', `pass:${TEST_PASSPHRASE}`, '-noout']);
      assert.equal(ok.code, 0, ok.stderr);
      const bad = await exec('openssl', [
        'pkey',
        '-in',
        path,
        '-passin',
        'pass:wrong passphrase!!',
        '-noout',
      ]);
      assert.notEqual(bad.code, 0);
    }
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
  });

  it('loads back the same CA with the right passphrase', async () => {
    const loaded = await CertificateAuthority.load(opts());
    assert.equal(loaded.chainPem, ca.chainPem);
    const opened = await CertificateAuthority.open(opts());
    assert.equal(opened.rootCertificatePem, ca.rootCertificatePem);
    await loaded.checkRootKey(TEST_PASSPHRASE);
    const csr = await webCsr('ec-p256');
    const cert = await loaded.issueFromCsr(csr.pem, { facility: 'Clinic', commonName: 'Loaded Signer' });
    const parsed = new x509.X509Certificate(cert.certificatePem);
    assert.ok(await parsed.verify({ publicKey: ca.issuingCertificate, signatureOnly: true }));
  });

  it('publishes a root CRL beside the CA files, kept until 30 days before nextUpdate, then re-signed with the next number', async () => {
    const at = (days: number) => () => new Date(Date.now() + days * 24 * 3600 * 1000);
    const first = await (await CertificateAuthority.load({ ...opts(), clock: at(0) })).ensureRootCrl(
      TEST_PASSPHRASE,
    );
    assert.equal(first.crlNumber, 1n);
    assert.equal(first.revokedCount, 0);
    const parsed = new x509.X509Crl(first.der);
    assert.ok(await parsed.verify({ publicKey: ca.rootCertificate.publicKey }));
    assert.equal(parsed.issuer, ca.rootCertificate.subject);
    assert.equal(await readFile(join(dir, 'root-ca.crl.pem'), 'utf8'), first.pem);

    const again = await (await CertificateAuthority.load({ ...opts(), clock: at(300) })).ensureRootCrl(
      'unused',
    );
    assert.ok(again.der.equals(first.der), 'still fresh: read back, the root key not needed');

    const later = await (await CertificateAuthority.load({ ...opts(), clock: at(340) })).ensureRootCrl(
      TEST_PASSPHRASE,
    );
    assert.equal(later.crlNumber, 2n);
    assert.ok(later.nextUpdate.getTime() > Date.now() + 700 * 24 * 3600 * 1000);

    await writeFile(join(dir, 'root-ca.crl.pem'), 'not a CRL');
    const replaced = await ca.ensureRootCrl(TEST_PASSPHRASE);
    assert.ok(await new x509.X509Crl(replaced.der).verify({ publicKey: ca.rootCertificate.publicKey }));
    await assert.rejects(
      (await CertificateAuthority.load({ ...opts(), clock: at(400) })).ensureRootCrl('wrong passphrase!!'),
      CaPassphraseError,
    );
  });

  it('refuses a wrong passphrase with a typed error', async () => {
    await assert.rejects(
      CertificateAuthority.load({ ...opts(), passphrase: 'not the passphrase' }),
      (e: unknown) => {
        assert.ok(e instanceof CaPassphraseError);
        assert.equal(e.code, 'ca-passphrase');
        return true;
      },
    );
    await assert.rejects(ca.checkRootKey('not the passphrase'), CaPassphraseError);
  });

  it('never overwrites an existing CA', async () => {
    await assert.rejects(CertificateAuthority.create(opts()), CaStoreError);
    assert.equal(await readFile(join(dir, 'root-ca.cert.pem'), 'utf8'), ca.rootCertificatePem);
  });

  it('reports an interrupted creation and a missing CA', async () => {
    const d2 = join(await tempDir(), 'ca');
    await CertificateAuthority.create({ ...opts(), dir: d2 });
    await rm(join(d2, 'ca.json'));
    await assert.rejects(CertificateAuthority.load({ ...opts(), dir: d2 }), /incomplete/);
    await assert.rejects(CertificateAuthority.open({ ...opts(), dir: d2 }), CaStoreError);
    await assert.rejects(CertificateAuthority.load({ ...opts(), dir: join(d2, 'nothing') }), /no CA/);
  });

  it('refuses a swapped issuing key', async () => {
    const d3 = join(await tempDir(), 'ca');
    await CertificateAuthority.create({ ...opts(), dir: d3 });
    await writeFile(join(d3, 'issuing-ca.key.pem'), await readFile(join(d3, 'root-ca.key.pem')));
    await assert.rejects(CertificateAuthority.load({ ...opts(), dir: d3 }), /does not match/);
  });

  it('lets only one of two concurrent creations win', async () => {
    const d = join(await tempDir(), 'ca');
    const results = await Promise.allSettled([
      CertificateAuthority.create({ ...opts(), dir: d }),
      CertificateAuthority.create({ ...opts(), dir: d }),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const lost = results.find((r) => r.status === 'rejected');
    assert.ok(lost?.status === 'rejected' && lost.reason instanceof CaStoreError);
    const winner = results.find((r) => r.status === 'fulfilled');
    const loaded = await CertificateAuthority.load({ ...opts(), dir: d });
    assert.ok(winner?.status === 'fulfilled');
    assert.equal(loaded.chainPem, winner.value.chainPem);
  });

  it('uses 600,000 PBKDF2 iterations by default', async () => {
    const d = join(await tempDir(), 'ca');
    const { kdfIterations: _, ...rest } = opts();
    await CertificateAuthority.create({ ...rest, dir: d });
    const parsed = await exec('openssl', ['asn1parse', '-in', join(d, 'issuing-ca.key.pem')]);
    assert.match(parsed.stdout, /INTEGER\s+:0927C0/);
    const started = Date.now();
    await CertificateAuthority.load({ ...rest, dir: d });
    assert.ok(Date.now() - started < 10_000);
  });

  it('refuses short passphrases and non-http CRL URLs', async () => {
    const d4 = join(await tempDir(), 'ca');
    await assert.rejects(
      CertificateAuthority.create({ ...opts(), dir: d4, passphrase: 'short' }),
      /at least 12/,
    );
    await assert.rejects(CertificateAuthority.create({ ...opts(), dir: d4, crlBaseUrl: 'ldap://x' }), /http/);
  });

  it('builds a root and an issuing CA that OpenSSL accepts as a chain', async () => {
    const root = join(dir, 'root-ca.cert.pem');
    const v = await exec('openssl', [
      'verify',
      '-x509_strict',
      '-CAfile',
      root,
      join(dir, 'issuing-ca.cert.pem'),
    ]);
    assert.equal(v.code, 0, v.stderr + v.stdout);
    const text = (await exec('openssl', ['x509', '-in', join(dir, 'issuing-ca.cert.pem'), '-noout', '-text']))
      .stdout;
    assert.match(text, /CA:TRUE, pathlen:0/);
    assert.match(text, /Certificate Sign, CRL Sign/);
    assert.match(text, /ecdsa-with-SHA384/);
    const meta = JSON.parse(await readFile(join(dir, 'ca.json'), 'utf8'));
    assert.equal(meta.format, 'medgrid-ca/1');
    assert.equal(meta.keyAlgorithm, 'ecdsa-p384');
  });
});

describe('CertificateAuthority issuance', () => {
  let ca: CertificateAuthority;
  before(async () => {
    ca = await makeCa();
  });
  after(cleanupTempDirs);

  it('issues a client certificate from a CSR with the subject taken from the parameters', async () => {
    const csr = await webCsr('ec-p256', 'CN=Mallory, O=MedGrid, OU=Certification Authority');
    const issued = await ca.issueFromCsr(csr.pem, {
      facility: 'Kyiv City Hospital 1',
      commonName: 'Taras Shevchenko',
    });
    assert.equal(issued.subject, '/DC=ua/DC=medgrid/O=Kyiv City Hospital 1/CN=Taras Shevchenko');
    assert.equal(issued.profile, 'client');
    assert.equal(issued.keyType, 'ec-p256');
    const cert = new x509.X509Certificate(issued.certificatePem);
    assert.equal(cert.subject, 'DC=ua, DC=medgrid, O=Kyiv City Hospital 1, CN=Taras Shevchenko');
    assert.deepEqual(
      Buffer.from(cert.publicKey.rawData),
      Buffer.from(await webcrypto.subtle.exportKey('spki', csr.keys.publicKey)),
    );
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
    assert.deepEqual([...(eku?.usages ?? [])], [EKU_CLIENT]);
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    assert.equal(ku?.critical, true);
    assert.equal(ku?.usages, x509.KeyUsageFlags.digitalSignature);
    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    assert.equal(bc?.ca, false);
    assert.equal(bc?.critical, true);
    const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
    const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
    const issuerSki = ca.issuingCertificate.getExtension(x509.SubjectKeyIdentifierExtension);
    assert.ok(ski?.keyId);
    assert.equal(aki?.keyId, issuerSki?.keyId);
    const crldp = cert.getExtension(x509.CRLDistributionPointsExtension);
    assert.equal(
      crldp?.distributionPoints[0]?.distributionPoint?.fullName?.[0]?.uniformResourceIdentifier,
      'https://medgrid.test:8443/ca/crl.pem',
    );
    // Serial: 16 octets, positive, lowercase hex.
    assert.match(issued.serialHex, /^[4-7][0-9a-f]{31}$/);
    const days = (issued.notAfter.getTime() - Date.now()) / 86_400_000;
    assert.ok(days > 364 && days <= 365, String(days));
    assert.ok(issued.notBefore.getTime() < Date.now());
    assert.ok(await cert.verify({ publicKey: ca.issuingCertificate, signatureOnly: true }));
  });

  it('gives every certificate a fresh random serial', async () => {
    const csr = await webCsr('ec-p256');
    const a = await ca.issueFromCsr(csr.der, { facility: 'Clinic', commonName: 'Same Person' });
    const b = await ca.issueFromCsr(csr.der, { facility: 'Clinic', commonName: 'Same Person' });
    assert.notEqual(a.serialHex, b.serialHex);
  });

  it('adds keyEncipherment for RSA keys', async () => {
    const csr = await webCsr('rsa-2048');
    const issued = await ca.issueFromCsr(csr.pem, { facility: 'Clinic', commonName: 'Rsa User' });
    assert.equal(issued.keyType, 'rsa');
    const ku = new x509.X509Certificate(issued.certificateDer).getExtension(x509.KeyUsagesExtension);
    assert.equal(ku?.usages, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
  });

  it('issues a service-account certificate marked OU=service', async () => {
    const csr = await webCsr('ec-p256');
    const issued = await ca.issueFromCsr(csr.pem, {
      profile: 'service',
      facility: 'Lviv Hospital',
      commonName: 'gateway-01',
    });
    assert.equal(issued.subject, '/DC=ua/DC=medgrid/O=Lviv Hospital/OU=service/CN=gateway-01');
    assert.equal(issued.profile, 'service');
    const eku = new x509.X509Certificate(issued.certificateDer).getExtension(x509.ExtendedKeyUsageExtension);
    assert.deepEqual([...(eku?.usages ?? [])], [EKU_CLIENT]);
  });

  it('accepts Ukrainian names as UTF8String', async () => {
    const csr = await webCsr('ec-p256');
    const issued = await ca.issueFromCsr(csr.pem, {
      facility: 'Лікарня №1',
      commonName: "Мар'яна Коваленко",
    });
    assert.equal(issued.subject, "/DC=ua/DC=medgrid/O=Лікарня №1/CN=Мар'яна Коваленко");
    const text = await exec('openssl', ['asn1parse', '-inform', 'DER'], issued.certificateDer);
    assert.match(text.stdout, /UTF8STRING/);
    assert.match(text.stdout, /IA5STRING\s+:medgrid/);
  });

  it('refuses names that would make the DN ambiguous', async () => {
    const csr = await webCsr('ec-p256');
    for (const commonName of ['Eve/CN=Admin', 'a=b', '', ' ', 'x'.repeat(65), 'Tab\there', 'two  spaces']) {
      await assert.rejects(
        ca.issueFromCsr(csr.pem, { facility: 'Clinic', commonName }),
        ProfileError,
        commonName,
      );
    }
    await assert.rejects(ca.issueFromCsr(csr.pem, { facility: 'A/B', commonName: 'Ok Name' }), ProfileError);
  });

  it('refuses validity longer than 13 months and accepts shorter ones', async () => {
    const csr = await webCsr('ec-p256');
    await assert.rejects(
      ca.issueFromCsr(csr.pem, { facility: 'Clinic', commonName: 'Long Lived', validityDays: 400 }),
      (e: unknown) => e instanceof ProfileError && /13 months/.test(e.message),
    );
    await assert.rejects(
      ca.issueFromCsr(csr.pem, { facility: 'Clinic', commonName: 'Zero', validityDays: 0 }),
      ProfileError,
    );
    const ok = await ca.issueFromCsr(csr.pem, {
      facility: 'Clinic',
      commonName: 'Short Lived',
      validityDays: 30,
    });
    assert.ok(Math.abs(ok.notAfter.getTime() - Date.now() - 30 * 86_400_000) < 60_000);
    const max = await ca.issueFromCsr(csr.pem, {
      facility: 'Clinic',
      commonName: 'Max Lived',
      validityDays: 390,
    });
    assert.ok(max.notAfter > ok.notAfter);
  });

  it('refuses CSRs with a bad signature or that are not CSRs', async () => {
    const csr = await webCsr('ec-p256');
    const tampered = Buffer.from(csr.der);
    tampered[tampered.length - 5]! ^= 0x01;
    await assert.rejects(ca.issueFromCsr(tampered, { facility: 'Clinic', commonName: 'X' }), CsrError);
    await assert.rejects(ca.issueFromCsr('hello', { facility: 'Clinic', commonName: 'X' }), CsrError);
    await assert.rejects(
      ca.issueFromCsr(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]), { facility: 'C', commonName: 'X' }),
      CsrError,
    );
    await assert.rejects(
      ca.issueFromCsr(ca.rootCertificatePem, { facility: 'Clinic', commonName: 'X' }),
      CsrError,
    );
  });

  it('refuses weak or unsupported keys', async () => {
    const p384 = await webCsr('ec-p384');
    await assert.rejects(
      ca.issueFromCsr(p384.pem, { facility: 'Clinic', commonName: 'X' }),
      (e: unknown) => e instanceof KeyPolicyError && /P-256/.test(e.message),
    );
    const rsa1024 = await webCsr('rsa-1024');
    await assert.rejects(
      ca.issueFromCsr(rsa1024.pem, { facility: 'Clinic', commonName: 'X' }),
      (e: unknown) => e instanceof KeyPolicyError && /2048/.test(e.message),
    );
  });

  it('issues the server TLS certificate with SANs and serverAuth', async () => {
    const issued = await ca.issueServerCertificate({
      hostname: 'medgrid.example.org',
      dnsNames: ['api.medgrid.example.org'],
      ipAddresses: ['10.0.0.5'],
    });
    assert.ok(issued.privateKeyPem?.includes('BEGIN PRIVATE KEY'));
    assert.equal(issued.subject, '/DC=ua/DC=medgrid/O=MedGrid/OU=server/CN=medgrid.example.org');
    const cert = new x509.X509Certificate(issued.certificatePem);
    assert.deepEqual([...(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], [EKU_SERVER]);
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
    const values = san.map((n) => `${n.type}:${n.value}`);
    for (const v of [
      'dns:localhost',
      'dns:medgrid.example.org',
      'dns:api.medgrid.example.org',
      'ip:127.0.0.1',
      'ip:10.0.0.5',
    ]) {
      assert.ok(values.includes(v), `${v} in ${values.join(',')}`);
    }
    const pub = createPublicKey(issued.privateKeyPem!).export({ format: 'der', type: 'spki' });
    assert.deepEqual(Buffer.from(cert.publicKey.rawData), pub);
    await assert.rejects(ca.issueServerCertificate({ ipAddresses: ['999.1.1.1'] }), ProfileError);
    await assert.rejects(ca.issueServerCertificate({ dnsNames: ['bad name'] }), ProfileError);
  });

  it('renews with the same key or a new one, with a new serial and the same subject', async () => {
    const csr = await webCsr('ec-p256');
    const first = await ca.issueFromCsr(csr.pem, {
      profile: 'service',
      facility: 'Clinic',
      commonName: 'gw',
      validityDays: 10,
    });
    const renewed = await ca.renew(first.certificatePem);
    assert.equal(renewed.subject, first.subject);
    assert.equal(renewed.profile, 'service');
    assert.notEqual(renewed.serialHex, first.serialHex);
    assert.ok(renewed.notAfter > first.notAfter);
    const a = new x509.X509Certificate(first.certificatePem);
    const b = new x509.X509Certificate(renewed.certificatePem);
    assert.deepEqual(Buffer.from(a.publicKey.rawData), Buffer.from(b.publicKey.rawData));

    const other = await webCsr('ec-p256', 'CN=ignored', true);
    const rekeyed = await ca.renew(first.certificateDer, { csr: other.pem });
    assert.equal(rekeyed.subject, first.subject);
    assert.notDeepEqual(
      Buffer.from(new x509.X509Certificate(rekeyed.certificatePem).publicKey.rawData),
      Buffer.from(a.publicKey.rawData),
    );

    const withKey = await ca.renewWithGeneratedKey(first.certificatePem, {
      password: 'a long enough password',
    });
    assert.equal(withKey.subject, first.subject);
    assert.ok(withKey.pkcs12.length > 500);

    const server = await ca.issueServerCertificate({ hostname: 'srv.test' });
    const renewedServer = await ca.renew(server.certificatePem);
    assert.equal(renewedServer.profile, 'server');
    const san = new x509.X509Certificate(renewedServer.certificatePem).getExtension(
      x509.SubjectAlternativeNameExtension,
    );
    assert.ok(san?.names.toJSON().some((n) => n.value === 'srv.test'));
  });

  it('refuses to renew a certificate from another CA', async () => {
    const foreign = await makeCa();
    const csr = await webCsr('ec-p256');
    const cert = await foreign.issueFromCsr(csr.pem, { facility: 'Clinic', commonName: 'Foreign' });
    // Same DN for both CAs: only the signature tells them apart.
    await assert.rejects(ca.renew(cert.certificatePem), /not issued by this CA/);
  });
});
