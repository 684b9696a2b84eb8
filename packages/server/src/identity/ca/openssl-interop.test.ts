import './crypto-provider.util.js';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KeyPolicyError } from './ca.errors.js';
import type { CertificateAuthority, IssuedCertificate } from './ca.service.js';
import { cleanupTempDirs, exec, makeCa, opensslForeignClient, tempDir } from './test-fixture.util.js';
import { CertificateVerifier } from './verify.service.js';

describe('interoperability with the openssl CLI', () => {
  let ca: CertificateAuthority;
  let dir: string;
  const p = (f: string) => join(dir, f);

  async function opensslCsr(name: string, keyArgs: string[], outform: 'PEM' | 'DER'): Promise<Buffer> {
    const r = await exec('openssl', [
      'req',
      '-new',
      ...keyArgs,
      '-nodes',
      '-keyout',
      p(`${name}.key`),
      '-out',
      p(`${name}.csr`),
      '-outform',
      outform,
      '-subj',
      '/CN=whatever the client asked for',
    ]);
    assert.equal(r.code, 0, r.stderr);
    return readFile(p(`${name}.csr`));
  }

  async function opensslVerify(certPem: string, crlPath: string, extra: string[] = []) {
    await writeFile(p('subject.pem'), certPem);
    return exec('openssl', [
      'verify',
      '-CAfile',
      p('chain.pem'),
      '-crl_check',
      '-CRLfile',
      crlPath,
      ...extra,
      p('subject.pem'),
    ]);
  }

  before(async () => {
    ca = await makeCa();
    dir = await tempDir();
    await writeFile(p('chain.pem'), ca.chainPem);
  });
  after(cleanupTempDirs);

  it('issues for an openssl-made EC P-256 CSR (PEM) with the expected profile', async () => {
    const csr = await opensslCsr('ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'], 'PEM');
    const issued = await ca.issueFromCsr(csr.toString(), {
      facility: 'Kharkiv Clinic',
      commonName: 'Openssl Ec',
    });
    await writeFile(p('ec.pem'), issued.certificatePem);
    const v = await exec('openssl', [
      'verify',
      '-x509_strict',
      '-purpose',
      'sslclient',
      '-CAfile',
      p('chain.pem'),
      p('ec.pem'),
    ]);
    assert.equal(v.code, 0, v.stderr + v.stdout);
    const subj = await exec('openssl', [
      'x509',
      '-in',
      p('ec.pem'),
      '-noout',
      '-subject',
      '-nameopt',
      'compat',
    ]);
    assert.equal(subj.stdout.trim(), `subject=${issued.subject}`);
    const text = (await exec('openssl', ['x509', '-in', p('ec.pem'), '-noout', '-text'])).stdout;
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature\n/);
    assert.match(text, /X509v3 Extended Key Usage:\s+TLS Web Client Authentication\n/);
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
    assert.match(text, /URI:https:\/\/medgrid\.test:8443\/ca\/crl\.pem/);
    assert.match(text, /X509v3 Subject Key Identifier/);
    assert.match(text, /X509v3 Authority Key Identifier/);
    // The key openssl generated is the one certified.
    const fromKey = await exec('openssl', ['pkey', '-in', p('ec.key'), '-pubout']);
    const fromCert = await exec('openssl', ['x509', '-in', p('ec.pem'), '-noout', '-pubkey']);
    assert.equal(fromCert.stdout, fromKey.stdout);
  });

  it('issues for an openssl-made RSA 2048 CSR (DER) with keyEncipherment', async () => {
    const csr = await opensslCsr('rsa', ['-newkey', 'rsa:2048'], 'DER');
    const issued = await ca.issueFromCsr(csr, { facility: 'Kharkiv Clinic', commonName: 'Openssl Rsa' });
    await writeFile(p('rsa.pem'), issued.certificatePem);
    const v = await exec('openssl', ['verify', '-x509_strict', '-CAfile', p('chain.pem'), p('rsa.pem')]);
    assert.equal(v.code, 0, v.stderr + v.stdout);
    const text = (await exec('openssl', ['x509', '-in', p('rsa.pem'), '-noout', '-text'])).stdout;
    assert.match(text, /Digital Signature, Key Encipherment/);
  });

  it('refuses openssl CSRs with P-384 and Ed25519 keys', async () => {
    const p384 = await opensslCsr(
      'p384',
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp384r1'],
      'PEM',
    );
    await assert.rejects(ca.issueFromCsr(p384, { facility: 'C', commonName: 'X' }), KeyPolicyError);
    const ed = await opensslCsr('ed', ['-newkey', 'ed25519'], 'PEM');
    await assert.rejects(ca.issueFromCsr(ed, { facility: 'C', commonName: 'X' }), KeyPolicyError);
  });

  for (const keyAlgorithm of ['rsa-3072', 'ecdsa-p256'] as const) {
    it(`works end to end with a ${keyAlgorithm} CA`, async () => {
      const other = await makeCa({ keyAlgorithm, crlPath: '/ca/crl' });
      const sub = join(dir, keyAlgorithm);
      await mkdir(sub);
      await writeFile(join(sub, 'chain.pem'), other.chainPem);
      const csr = await opensslCsr(
        `${keyAlgorithm}-leaf`,
        ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
        'PEM',
      );
      const leaf = await other.issueFromCsr(csr, { facility: 'Clinic', commonName: 'Alg Test' });
      const crl = await other.generateCrl([], { crlNumber: 1 });
      await writeFile(join(sub, 'leaf.pem'), leaf.certificatePem);
      await writeFile(join(sub, 'crl.der'), crl.der);
      const crlPem = await exec('openssl', [
        'crl',
        '-inform',
        'DER',
        '-in',
        join(sub, 'crl.der'),
        '-out',
        join(sub, 'crl.pem'),
      ]);
      assert.equal(crlPem.code, 0, crlPem.stderr);
      const v = await exec('openssl', [
        'verify',
        '-x509_strict',
        '-CAfile',
        join(sub, 'chain.pem'),
        '-crl_check',
        '-CRLfile',
        join(sub, 'crl.pem'),
        join(sub, 'leaf.pem'),
      ]);
      assert.equal(v.code, 0, v.stderr + v.stdout);
      const text = (await exec('openssl', ['x509', '-in', join(sub, 'leaf.pem'), '-noout', '-text'])).stdout;
      assert.match(text, keyAlgorithm === 'rsa-3072' ? /sha256WithRSAEncryption/ : /ecdsa-with-SHA256/);
      assert.match(text, /URI:https:\/\/medgrid\.test:8443\/ca\/crl\n/);
    });
  }

  it('agrees with openssl verify -crl_check on valid, revoked, foreign and wrong-purpose certificates', async () => {
    const csr = await opensslCsr(
      'agree',
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
      'PEM',
    );
    const valid: IssuedCertificate = await ca.issueFromCsr(csr, {
      facility: 'Clinic',
      commonName: 'Still Valid',
    });
    const revoked = await ca.issueFromCsr(csr, { facility: 'Clinic', commonName: 'Revoked Now' });
    const server = await ca.issueServerCertificate({});
    const crl = await ca.generateCrl(
      [{ serialHex: revoked.serialHex, revokedAt: new Date(), reason: 'keyCompromise' }],
      {
        crlNumber: 5,
      },
    );
    await writeFile(p('crl.pem'), crl.pem);
    const verifier = await CertificateVerifier.create({ caCertificates: ca.chainPem, crl: crl.der });

    const ok = await opensslVerify(valid.certificatePem, p('crl.pem'));
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.equal((await verifier.verify(valid.certificatePem)).ok, true);

    const rv = await opensslVerify(revoked.certificatePem, p('crl.pem'));
    assert.notEqual(rv.code, 0);
    assert.match(rv.stderr + rv.stdout, /certificate revoked/);
    const ours = await verifier.verify(revoked.certificatePem);
    assert.equal(!ours.ok && ours.reason, 'revoked');

    const foreign = await opensslForeignClient(dir);
    const foreignPem = await readFile(foreign.certPath, 'utf8');
    const fv = await opensslVerify(foreignPem, p('crl.pem'));
    assert.notEqual(fv.code, 0);
    assert.match(fv.stderr + fv.stdout, /unable to get local issuer certificate/);
    const fo = await verifier.verify(foreignPem);
    assert.equal(!fo.ok && fo.reason, 'unknown-ca');

    const sv = await opensslVerify(server.certificatePem, p('crl.pem'), ['-purpose', 'sslclient']);
    assert.notEqual(sv.code, 0);
    assert.match(sv.stderr + sv.stdout, /unsuitable certificate purpose/);
    const so = await verifier.verify(server.certificatePem, { purpose: 'client' });
    assert.equal(!so.ok && so.reason, 'wrong-eku');

    // Past notAfter: openssl -attime, ours with `now`, using a CRL current at that time.
    const later = new Date(valid.notAfter.getTime() + 3600_000);
    const laterCrl = await ca.generateCrl([], { crlNumber: 6, thisUpdate: later });
    await writeFile(p('later-crl.pem'), laterCrl.pem);
    const ev = await opensslVerify(valid.certificatePem, p('later-crl.pem'), [
      '-attime',
      String(Math.floor(later.getTime() / 1000)),
    ]);
    assert.notEqual(ev.code, 0);
    assert.match(ev.stderr + ev.stdout, /certificate has expired/);
    const laterVerifier = await CertificateVerifier.create({
      caCertificates: ca.chainPem,
      crl: laterCrl.pem,
    });
    const eo = await laterVerifier.verify(valid.certificatePem, { now: later });
    assert.equal(!eo.ok && eo.reason, 'expired');
  });
});
