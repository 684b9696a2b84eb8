import './crypto-provider.util.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CaPassphraseError } from './ca.errors.js';
import type { CertificateAuthority, IssuedCertificate } from './ca.service.js';
import type { GeneratedCrl } from './crl.service.js';
import { cleanupTempDirs, makeCa, TEST_PASSPHRASE, webCsr } from './test-fixture.util.js';
import { CertificateVerifier, parseCertificateIdentity, verifyCertificate } from './verify.service.js';

describe('certificate verification', () => {
  let ca: CertificateAuthority;
  let lookalike: CertificateAuthority;
  let good: IssuedCertificate;
  let revoked: IssuedCertificate;
  let crl: GeneratedCrl;
  let verifier: CertificateVerifier;

  before(async () => {
    ca = await makeCa();
    // Same DNs as `ca`, different keys: only signatures can tell them apart.
    lookalike = await makeCa();
    const csr = await webCsr('ec-p256');
    good = await ca.issueFromCsr(csr.pem, { facility: 'Odesa Clinic', commonName: 'Good Doctor' });
    revoked = await ca.issueFromCsr(csr.pem, { facility: 'Odesa Clinic', commonName: 'Revoked Doctor' });
    crl = await ca.generateCrl(
      [{ serialHex: revoked.serialHex, revokedAt: new Date(), reason: 'affiliationChanged' }],
      {
        crlNumber: 7,
      },
    );
    verifier = await CertificateVerifier.create({ caCertificates: ca.chainPem, crl: crl.pem });
  });
  after(cleanupTempDirs);

  it('accepts a valid certificate and returns its identity (PEM or DER input)', async () => {
    for (const input of [good.certificatePem, good.certificateDer]) {
      const r = await verifier.verify(input);
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.ok(r.ok);
      assert.equal(r.identity.subject, '/DC=ua/DC=medgrid/O=Odesa Clinic/CN=Good Doctor');
      assert.equal(
        r.identity.issuer,
        '/DC=ua/DC=medgrid/O=MedGrid/OU=Certification Authority/CN=MedGrid Issuing CA 1',
      );
      assert.equal(r.identity.serialHex, good.serialHex);
      assert.equal(r.identity.kind, 'client');
      assert.equal(r.identity.facility, 'Odesa Clinic');
      assert.equal(r.identity.commonName, 'Good Doctor');
      assert.equal(r.identity.notAfter.getTime(), good.notAfter.getTime());
      assert.equal(r.identity.fingerprintSha256, good.fingerprintSha256);
    }
    assert.equal(verifier.crlNumber, 7n);
    const oneShot = await verifyCertificate(good.certificatePem, {
      caCertificates: [ca.issuingCertificatePem, ca.rootCertificatePem],
      crl: crl.der,
    });
    assert.equal(oneShot.ok, true);
    assert.equal((await ca.verify(good.certificatePem, crl.pem)).ok, true);
  });

  it('reports a revoked certificate with its reason', async () => {
    const r = await verifier.verify(revoked.certificatePem);
    assert.equal(r.ok, false);
    assert.ok(!r.ok);
    assert.equal(r.reason, 'revoked');
    assert.equal(r.revocationReason, 'affiliationChanged');
    assert.equal(r.identity?.subject, '/DC=ua/DC=medgrid/O=Odesa Clinic/CN=Revoked Doctor');
  });

  it('reports expired and not-yet-valid certificates', async () => {
    const later = new Date(good.notAfter.getTime() + 1000);
    // A CRL that is current at that later time, so only the certificate dates matter.
    const laterCrl = await ca.generateCrl([], { crlNumber: 8, thisUpdate: later });
    const v = await CertificateVerifier.create({ caCertificates: ca.chainPem, crl: laterCrl.der });
    const expired = await v.verify(good.certificatePem, { now: later });
    assert.equal(!expired.ok && expired.reason, 'expired');
    const early = await verifier.verify(good.certificatePem, {
      now: new Date(good.notBefore.getTime() - 1000),
    });
    assert.equal(!early.ok && early.reason, 'not-yet-valid');
  });

  it('reports certificates from an unknown CA or with a forged signature', async () => {
    const csr = await webCsr('ec-p256');
    const forged = await lookalike.issueFromCsr(csr.pem, {
      facility: 'Odesa Clinic',
      commonName: 'Good Doctor',
    });
    const r = await verifier.verify(forged.certificatePem);
    assert.equal(!r.ok && r.reason, 'bad-signature');

    const tampered = Buffer.from(good.certificateDer);
    tampered[tampered.length - 3]! ^= 0x01;
    const t = await verifier.verify(tampered);
    assert.equal(!t.ok && t.reason, 'bad-signature');

    // Trusting only the lookalike's root: the chain cannot be built.
    const onlyRoot = await CertificateVerifier.create({
      caCertificates: lookalike.rootCertificatePem,
      crl: crl.pem,
    });
    const u = await onlyRoot.verify(good.certificatePem);
    assert.equal(!u.ok && u.reason, 'unknown-ca');
  });

  it('reports a server certificate used as a client, and a CA certificate as a leaf', async () => {
    const server = await ca.issueServerCertificate({});
    const r = await verifier.verify(server.certificatePem);
    assert.equal(!r.ok && r.reason, 'wrong-eku');
    const asServer = await verifier.verify(server.certificatePem, { purpose: 'server' });
    assert.equal(asServer.ok, true);
    assert.equal(asServer.ok && asServer.identity.kind, 'server');
    const wrongWay = await verifier.verify(good.certificatePem, { purpose: 'server' });
    assert.equal(!wrongWay.ok && wrongWay.reason, 'wrong-eku');
    const caAsLeaf = await verifier.verify(ca.issuingCertificatePem);
    assert.equal(!caAsLeaf.ok && caAsLeaf.reason, 'not-end-entity');
  });

  it('fails closed on a stale, foreign or forged CRL', async () => {
    const stale = await verifier.verify(good.certificatePem, {
      now: new Date(crl.nextUpdate.getTime() + 1000),
    });
    assert.equal(!stale.ok && stale.reason, 'crl-invalid');
    const foreignCrl = await lookalike.generateCrl([], { crlNumber: 1 });
    const v = await CertificateVerifier.create({ caCertificates: ca.chainPem, crl: foreignCrl.pem });
    const r = await v.verify(good.certificatePem);
    assert.equal(!r.ok && r.reason, 'crl-invalid');
    // The lookalike CRL would otherwise hide the revocation.
    const rv = await v.verify(revoked.certificatePem);
    assert.equal(rv.ok, false);
  });

  it('applies a root CRL to the issuing CA when one is given', async () => {
    const issuingSerial = ca.issuingCertificate.serialNumber;
    const emptyRoot = await ca.generateRootCrl(TEST_PASSPHRASE, [], { crlNumber: 1 });
    const both = await CertificateVerifier.create({
      caCertificates: ca.chainPem,
      crl: crl.pem + emptyRoot.pem,
    });
    assert.equal((await both.verify(good.certificatePem)).ok, true);
    const revokedRoot = await ca.generateRootCrl(
      TEST_PASSPHRASE,
      [{ serialHex: issuingSerial, revokedAt: new Date(), reason: 'cACompromise' }],
      {
        crlNumber: 2,
      },
    );
    const v = await CertificateVerifier.create({
      caCertificates: ca.chainPem,
      crl: [crl.der, revokedRoot.der],
    });
    const r = await v.verify(good.certificatePem);
    assert.equal(!r.ok && r.reason, 'revoked');
    assert.equal(!r.ok && r.revocationReason, 'cACompromise');
    await assert.rejects(ca.generateRootCrl('wrong passphrase!!', [], { crlNumber: 3 }), CaPassphraseError);
  });

  it('reports garbage as malformed and parses identities without trust', async () => {
    const r = await verifier.verify('not a certificate');
    assert.equal(!r.ok && r.reason, 'malformed');
    const g = await verifier.verify(Buffer.from([0x30, 0x01, 0x00]));
    assert.equal(!g.ok && g.reason, 'malformed');
    assert.equal(parseCertificateIdentity(good.certificatePem).serialHex, good.serialHex);
  });
});
