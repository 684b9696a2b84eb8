import './crypto-provider.util.js';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSecureContext } from 'node:tls';
import * as x509 from '@peculiar/x509';
import { Pkcs12PasswordError } from './ca.errors.js';
import type { CertificateAuthority, IssuedWithKey } from './ca.service.js';
import { createPkcs12, generatePkcs12Password, readPkcs12 } from './pkcs12.util.js';
import { cleanupTempDirs, exec, makeCa, TEST_P12_PASSWORD, tempDir } from './test-fixture.util.js';

describe('PKCS#12 delivery', () => {
  let ca: CertificateAuthority;
  let ec: IssuedWithKey;
  let dir: string;
  before(async () => {
    ca = await makeCa();
    dir = await tempDir();
    ec = await ca.issueWithGeneratedKey({
      facility: 'Clinic',
      commonName: 'Olena Petrenko',
      password: TEST_P12_PASSWORD,
    });
  });
  after(cleanupTempDirs);

  it('is read by openssl pkcs12 without -legacy, with AES-256 PBES2 and a SHA-256 MAC', async () => {
    const path = join(dir, 'ec.p12');
    await writeFile(path, ec.pkcs12);
    const r = await exec('openssl', [
      'pkcs12',
      '-info',
      '-nokeys',
      '-in',
      path,
      '-passin',
      `pass:${TEST_P12_PASSWORD}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const info = r.stderr + r.stdout;
    assert.match(info, /MAC: sha256, Iteration 100000/);
    assert.match(info, /PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256/);
    assert.doesNotMatch(info, /RC2|3DES|SHA1/i);
    // Leaf plus issuing and root CA.
    assert.equal(r.stdout.match(/-----BEGIN CERTIFICATE-----/g)?.length, 3);
    assert.match(r.stdout, /friendlyName: Olena Petrenko \(MedGrid\)/);
    const bad = await exec('openssl', [
      'pkcs12',
      '-info',
      '-nokeys',
      '-in',
      path,
      '-passin',
      'pass:wrong-password-123',
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /mac verify error/i);
  });

  it('holds the key that matches the certificate (checked by openssl)', async () => {
    const path = join(dir, 'ec2.p12');
    await writeFile(path, ec.pkcs12);
    const keys = await exec('openssl', [
      'pkcs12',
      '-in',
      path,
      '-nocerts',
      '-nodes',
      '-passin',
      `pass:${TEST_P12_PASSWORD}`,
    ]);
    assert.equal(keys.code, 0, keys.stderr);
    const pubFromKey = createPublicKey(keys.stdout).export({ format: 'der', type: 'spki' });
    const cert = new x509.X509Certificate(ec.certificatePem);
    assert.deepEqual(pubFromKey, Buffer.from(cert.publicKey.rawData));
  });

  it('is accepted by Node TLS and rejected with a wrong passphrase', () => {
    assert.ok(createSecureContext({ pfx: ec.pkcs12, passphrase: TEST_P12_PASSWORD }));
    assert.throws(() => createSecureContext({ pfx: ec.pkcs12, passphrase: 'wrong-password-123' }));
  });

  it('round-trips through readPkcs12 and refuses a wrong password', async () => {
    const c = await readPkcs12(ec.pkcs12, TEST_P12_PASSWORD);
    assert.deepEqual(c.certificateDer, ec.certificateDer);
    assert.equal(c.chainDer.length, 2);
    assert.deepEqual(c.privateKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    await assert.rejects(readPkcs12(ec.pkcs12, 'wrong-password-123'), Pkcs12PasswordError);
    const tampered = Buffer.from(ec.pkcs12);
    tampered[tampered.length - 40]! ^= 0xff;
    await assert.rejects(readPkcs12(tampered, TEST_P12_PASSWORD));
  });

  it('also delivers RSA keys (with keyEncipherment) and non-ASCII passwords', async () => {
    const password = 'пароль-лікаря-2026';
    const rsa = await ca.issueWithGeneratedKey({
      facility: 'Clinic',
      commonName: 'Rsa Doctor',
      password,
      keyType: 'rsa-2048',
    });
    assert.equal(rsa.keyType, 'rsa');
    const path = join(dir, 'rsa.p12');
    await writeFile(path, rsa.pkcs12);
    const r = await exec('openssl', [
      'pkcs12',
      '-info',
      '-nokeys',
      '-in',
      path,
      '-passin',
      `pass:${password}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(createSecureContext({ pfx: rsa.pkcs12, passphrase: password }));
    const back = await readPkcs12(rsa.pkcs12, password);
    assert.equal(back.privateKey.asymmetricKeyType, 'rsa');
  });

  it('refuses short passwords and generates strong ones', async () => {
    await assert.rejects(
      ca.issueWithGeneratedKey({ facility: 'Clinic', commonName: 'Weak', password: 'short' }),
      /at least 12/,
    );
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    await assert.rejects(
      createPkcs12({ privateKey, certificate: ec.certificatePem, password: '12345' }),
      /at least 12/,
    );
    const p = generatePkcs12Password();
    assert.match(p, /^[A-Za-z0-9_-]{24}$/);
    assert.notEqual(p, generatePkcs12Password());
  });
});
