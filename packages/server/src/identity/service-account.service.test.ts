import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SYSTEM_ACTOR } from '../audit/audit.service.js';
import { type Harness, startHarness } from '../auth/test-harness.util.js';
import { Membership } from '../vo/vo.entities.js';
import { VoService } from '../vo/vo.service.js';
import { CertificateService } from './certificates/certificate.service.js';
import { ensureServiceCertificate, type ServiceAccountSpec } from './service-account.service.js';

describe('the embedded gateway service account (medgrid start)', () => {
  let h: Harness;
  let spec: ServiceAccountSpec;
  before(async () => {
    h = await startHarness();
    spec = {
      name: 'Embedded Gateway',
      facility: 'MedGrid',
      groupPath: '/medgrid',
      role: 'gateway',
      dir: path.join(h.dataDir, 'tls', 'gateway'),
      basename: 'gateway',
    };
  });
  after(() => h.close());

  /** What the server makes of the certificate on file (mTLS path: chain, validity, CRL, account). */
  const principalOnFile = async () => {
    h.identity.invalidate();
    const der = new X509Certificate(readFileSync(path.join(spec.dir, 'gateway.pem'))).raw;
    return (await h.auth.fromCertificate(der)).principal;
  };

  test('first start: a service user with the gateway role and a CA certificate for a key made locally (0600)', async () => {
    const c = await ensureServiceCertificate(h.config, h.orm, spec);
    assert.equal(c.outcome, 'issued');
    assert.equal(statSync(c.keyFile).mode & 0o777, 0o600);
    assert.equal(readFileSync(c.caFile, 'utf8'), h.identity.ca.chainPem);
    const p = await principalOnFile();
    assert.equal(p?.kind, 'service');
    assert.equal(p?.access, 'active');
    assert.deepEqual(
      p?.roles.map((r) => `${r.role}@${r.groupPath}`),
      ['gateway@/medgrid'],
    );
    assert.match(p!.subject, /OU=service/);
  });

  test('next start: the same certificate is reused', async () => {
    const before = new X509Certificate(readFileSync(path.join(spec.dir, 'gateway.pem'))).serialNumber;
    const c = await ensureServiceCertificate(h.config, h.orm, spec);
    assert.equal(c.outcome, 'reused');
    assert.equal(new X509Certificate(readFileSync(c.certFile)).serialNumber, before);
  });

  test('a new AUP and a membership near its term do not stop the gateway: accepted and renewed at start', async () => {
    const em = h.orm.em.fork();
    const vo = new VoService(em, h.identity.voOptions());
    await vo.publishAup(SYSTEM_ACTOR, 'Use MedGrid for care only.', new Date(Date.now() + 7 * 86_400_000));
    assert.equal((await principalOnFile())?.access, 'aup-required', 'the AUP blocks the account at first');
    const p0 = await principalOnFile();
    const m = await em.findOneOrFail(Membership, { userId: p0!.userId });
    m.expiresAt = new Date(Date.now() + 3 * 86_400_000);
    await em.flush();
    await ensureServiceCertificate(h.config, h.orm, spec);
    assert.equal((await principalOnFile())?.access, 'active');
    const renewed = await h.orm.em.fork().findOneOrFail(Membership, { id: m.id });
    assert.ok(renewed.expiresAt!.getTime() > Date.now() + 300 * 86_400_000, 'renewed for a full term');
  });

  test('a revoked certificate is not replaced behind the administrator; a missing one is issued anew', async () => {
    const file = path.join(spec.dir, 'gateway.pem');
    const serial = new X509Certificate(readFileSync(file)).serialNumber;
    await new CertificateService(h.orm.em.fork(), h.identity).revoke(SYSTEM_ACTOR, serial, 'keyCompromise');
    const c = await ensureServiceCertificate(h.config, h.orm, spec);
    assert.equal(c.outcome, 'revoked');
    assert.equal(new X509Certificate(readFileSync(file)).serialNumber, serial);
    assert.equal(await principalOnFile(), null);
    rmSync(file);
    const again = await ensureServiceCertificate(h.config, h.orm, spec);
    assert.equal(again.outcome, 'issued');
    assert.notEqual(new X509Certificate(readFileSync(file)).serialNumber, serial);
    assert.equal((await principalOnFile())?.access, 'active');
  });
});
