import './crypto-provider.util.js';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RevocationError } from './ca.errors.js';
import type { CertificateAuthority } from './ca.service.js';
import { crlNumberOf, normaliseSerialHex, parseCrl } from './crl.service.js';
import { toPem } from './pem.util.js';
import { cleanupTempDirs, exec, makeCa, tempDir } from './test-fixture.util.js';

describe('CRL generation', () => {
  let ca: CertificateAuthority;
  let dir: string;
  before(async () => {
    ca = await makeCa();
    dir = await tempDir();
    await writeFile(join(dir, 'chain.pem'), ca.chainPem);
  });
  after(cleanupTempDirs);

  it('lists revoked serials with reasons that OpenSSL reads in DER and PEM', async () => {
    const thisUpdate = new Date('2026-11-01T10:00:00Z');
    const nextUpdate = new Date('2026-11-08T10:00:00Z');
    const crl = await ca.generateCrl(
      [
        {
          serialHex: '4a1b2c3d4e5f60718293a4b5c6d7e8f9',
          revokedAt: new Date('2026-10-30T12:00:00Z'),
          reason: 'keyCompromise',
        },
        { serialHex: '00:51:00:aa', revokedAt: new Date('2026-10-31T12:00:00Z'), reason: 9 },
        { serialHex: '7777', revokedAt: new Date('2026-10-31T13:00:00Z'), reason: 'unspecified' },
      ],
      { crlNumber: 42n, thisUpdate, nextUpdate },
    );
    assert.equal(crl.revokedCount, 3);
    assert.equal(crl.crlNumber, 42n);
    assert.match(crl.pem, /^-----BEGIN X509 CRL-----\n/);
    assert.match(crl.pem, /-----END X509 CRL-----\n$/);
    const derPath = join(dir, 'crl.der');
    const pemPath = join(dir, 'crl.pem');
    await writeFile(derPath, crl.der);
    await writeFile(pemPath, crl.pem);
    for (const [path, inform] of [
      [derPath, 'DER'],
      [pemPath, 'PEM'],
    ] as const) {
      const r = await exec('openssl', [
        'crl',
        '-inform',
        inform,
        '-in',
        path,
        '-noout',
        '-text',
        '-CAfile',
        join(dir, 'chain.pem'),
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr + r.stdout, /verify OK/);
      const t = r.stdout;
      assert.match(t, /Serial Number: 4A1B2C3D4E5F60718293A4B5C6D7E8F9/);
      assert.match(t, /Key Compromise/);
      assert.match(t, /Serial Number: 5100AA/);
      assert.match(t, /Privilege Withdrawn/);
      assert.match(t, /Serial Number: 7777/);
      assert.match(t, /X509v3 CRL Number:\s+42/);
      assert.match(t, /X509v3 Authority Key Identifier/);
      assert.match(t, /Last Update: Nov {2}1 10:00:00 2026 GMT/);
      assert.match(t, /Next Update: Nov {2}8 10:00:00 2026 GMT/);
      assert.match(
        t,
        /Issuer: DC = ua, DC = medgrid, O = MedGrid, OU = Certification Authority, CN = MedGrid Issuing CA 1/,
      );
    }
    // "unspecified" is expressed by omitting the reason code (RFC 5280 §5.3.1).
    const parsed = parseCrl(crl.pem);
    assert.equal(parsed.findRevoked('7777')?.reason, undefined);
    assert.equal(crlNumberOf(parsed), 42n);
    assert.equal(parsed.entries.length, 3);
    assert.ok(await parsed.verify({ publicKey: ca.issuingCertificate }));
    assert.equal(await parsed.verify({ publicKey: ca.rootCertificate }), false);
  });

  it('produces an empty but valid CRL with a default nextUpdate of 7 days', async () => {
    const crl = await ca.generateCrl([], { crlNumber: 1 });
    assert.equal(crl.revokedCount, 0);
    assert.equal(crl.nextUpdate.getTime() - crl.thisUpdate.getTime(), 7 * 86_400_000);
    const r = await exec('openssl', ['crl', '-inform', 'DER', '-noout', '-text'], crl.der);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /No Revoked Certificates/);
  });

  it('reads the CRL whether labelled X509 CRL, CRL, or DER', async () => {
    const crl = await ca.generateCrl([], { crlNumber: 2 });
    assert.equal(crlNumberOf(parseCrl(crl.der)), 2n);
    assert.equal(crlNumberOf(parseCrl(toPem(crl.der, 'CRL'))), 2n);
    assert.throws(() => parseCrl('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), /no CRL/);
  });

  it('refuses invalid reasons, duplicate serials, bad serials and bad dates', async () => {
    const revokedAt = new Date();
    await assert.rejects(
      ca.generateCrl([{ serialHex: '01', revokedAt, reason: 7 }], { crlNumber: 3 }),
      RevocationError,
    );
    await assert.rejects(
      ca.generateCrl([{ serialHex: '01', revokedAt, reason: 8 }], { crlNumber: 3 }),
      RevocationError,
    );
    await assert.rejects(
      ca.generateCrl([{ serialHex: '01', revokedAt, reason: 'nope' as 'keyCompromise' }], { crlNumber: 3 }),
      RevocationError,
    );
    await assert.rejects(
      ca.generateCrl(
        [
          { serialHex: '0abc', revokedAt, reason: 1 },
          { serialHex: 'ABC', revokedAt, reason: 1 },
        ],
        { crlNumber: 3 },
      ),
      /twice/,
    );
    await assert.rejects(
      ca.generateCrl([{ serialHex: 'xyz', revokedAt, reason: 1 }], { crlNumber: 3 }),
      RevocationError,
    );
    await assert.rejects(ca.generateCrl([], { crlNumber: -1 }), RevocationError);
    const t = new Date();
    await assert.rejects(ca.generateCrl([], { crlNumber: 3, thisUpdate: t, nextUpdate: t }), /nextUpdate/);
  });

  it('normalises serials to lowercase hex without leading zero octets', () => {
    assert.equal(normaliseSerialHex('00:AB:cd'), 'abcd');
    assert.equal(normaliseSerialHex('0'), '00');
    assert.equal(normaliseSerialHex('fff'), '0fff');
    assert.throws(() => normaliseSerialHex('0x12'), RevocationError);
  });
});
