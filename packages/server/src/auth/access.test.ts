import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { CLI_ACTOR } from '../audit/audit.service.js';
import { AuditEvent } from '../audit/audit-event.entity.js';
import { CertificateService } from '../identity/certificates/certificate.service.js';
import { IdentityRuntime } from '../identity/identity.runtime.js';
import { Membership } from '../vo/vo.entities.js';
import { VoService } from '../vo/vo.service.js';
import { account, gql, type Harness, signIn, startHarness, type TestAccount } from './test-harness.util.js';

const DAY = 864e5;

describe('access follows certificate and membership state', () => {
  let h: Harness;
  let offsetMs = 0;
  const clock = () => new Date(Date.now() + offsetMs);
  let admin: TestAccount;
  let adminCookie: string;
  before(async () => {
    // Sessions outlive the simulated days below.
    h = await startHarness({ clock, settings: { sessionTtlSeconds: 10 * 86400 } });
    admin = await account(h, { name: 'Admin', facility: 'MedGrid', roles: ['vo-admin', 'ca-operator'] });
    adminCookie = await signIn(h, admin);
  });
  after(() => h.close());
  afterEach(() => {
    offsetMs = 0;
  });

  const groups = (cookie: string) => gql(h, '{ voGroups { path } }', {}, cookie);
  const code = (r: { errors?: { extensions?: { code?: string } }[] }) =>
    r.errors?.[0]?.extensions?.code ?? 'OK';

  test("revocation through the API ends the certificate's sessions at once and updates the CRL", async () => {
    const doc = await account(h, { name: 'Revoked Doctor', facility: 'Kyiv1', groupPath: '/medgrid/kyiv1' });
    const cookie = await signIn(h, doc);
    assert.equal(code(await groups(cookie)), 'OK');
    const before = (await gql(h, '{ crlStatus { crlNumber revokedCount } }')).data as {
      crlStatus: { crlNumber: string; revokedCount: number };
    };
    const r = await gql(
      h,
      'mutation($s: String!) { revokeCertificate(serial: $s, reason: KEY_COMPROMISE) { status revocationReason } }',
      { s: doc.certificate.serialHex },
      adminCookie,
    );
    assert.deepEqual(r.data, {
      revokeCertificate: { status: 'REVOKED', revocationReason: 'KEY_COMPROMISE' },
    });
    const res = await groups(cookie);
    assert.equal(code(res), 'UNAUTHENTICATED');
    const afterCrl = (await gql(h, '{ crlStatus { crlNumber revokedCount } }')).data as typeof before;
    assert.equal(BigInt(afterCrl.crlStatus.crlNumber), BigInt(before.crlStatus.crlNumber) + 1n);
    assert.equal(afterCrl.crlStatus.revokedCount, before.crlStatus.revokedCount + 1);
    // The published CRL lists it, in PEM (X509 CRL) and DER.
    const pem = await h.app.inject('/ca/crl.pem');
    assert.match(pem.body, /^-----BEGIN X509 CRL-----/);
    const der = await h.app.inject('/ca/crl.der');
    assert.equal(der.headers['content-type'], 'application/pkix-crl');
    assert.equal(der.rawPayload[0], 0x30);
    // A new sign-in with the revoked certificate is refused.
    await assert.rejects(signIn(h, doc), /certificate revoked|not on record/);
    const events = await h.orm.em.fork().find(AuditEvent, { action: 'certificate.revoke' });
    assert.equal(events.length, 1);
    assert.equal(events[0]!.target, `certificate:${doc.certificate.serialHex}`);
    assert.match(events[0]!.actor!, /CN=Admin/);
  });

  test('a revocation by another process reaches an open session within 60 s (cache ≤ 30 s)', async () => {
    const doc = await account(h, {
      name: 'Other Process Doctor',
      facility: 'Kyiv1',
      groupPath: '/medgrid/kyiv1',
    });
    const cookie = await signIn(h, doc);
    assert.equal(code(await groups(cookie)), 'OK');
    // "Another process": its own runtime and caches over the same database and CA.
    const other = new IdentityRuntime(h.identity.ca, h.identity.settings, clock);
    await new CertificateService(h.orm.em.fork(), other).revoke(
      CLI_ACTOR,
      doc.certificate.serialHex,
      'superseded',
    );
    assert.equal(code(await groups(cookie)), 'OK', 'still cached in this process');
    offsetMs += 31_000;
    assert.equal(code(await groups(cookie)), 'UNAUTHENTICATED');
    offsetMs = 0;
  });

  test('a suspended membership is refused; restoring it gives access back', async () => {
    const doc = await account(h, {
      name: 'Suspended Doctor',
      facility: 'Kyiv1',
      groupPath: '/medgrid/kyiv1',
    });
    const cookie = await signIn(h, doc);
    const m = await h.orm.em.fork().findOneOrFail(Membership, { userId: doc.user.id });
    const s = await gql(
      h,
      'mutation($id: String!) { suspendMembership(membershipId: $id, reason: "audit") { status } }',
      { id: m.id },
      adminCookie,
    );
    assert.deepEqual(s.data, { suspendMembership: { status: 'SUSPENDED' } });
    const r = await groups(cookie);
    assert.equal(code(r), 'FORBIDDEN');
    assert.match(r.errors![0]!.message, /membership is not active/);
    await gql(
      h,
      'mutation($id: String!) { restoreMembership(membershipId: $id) { status } }',
      { id: m.id },
      adminCookie,
    );
    assert.equal(code(await groups(cookie)), 'OK');
  });

  test('a member who has not accepted the current AUP may only accept it; a missed deadline suspends until accepted', async () => {
    const doc = await account(h, { name: 'AUP Doctor', facility: 'Kyiv1', groupPath: '/medgrid/kyiv1' });
    const cookie = await signIn(h, doc);
    const acceptBy = new Date(Date.now() + 2 * DAY).toISOString();
    const pub = await gql(
      h,
      'mutation($t: DateTimeISO!) { publishAup(text: "Be careful.", acceptBy: $t) { version } }',
      { t: acceptBy },
      adminCookie,
    );
    const version = (pub.data as { publishAup: { version: number } }).publishAup.version;
    // The admin must accept too.
    assert.equal(code(await groups(adminCookie)), 'AUP_NOT_ACCEPTED');
    assert.equal(
      (await gql(h, 'mutation($v: Int!) { acceptAup(version: $v) }', { v: version }, adminCookie)).data
        ?.acceptAup,
      true,
    );
    const r = await groups(cookie);
    assert.equal(code(r), 'AUP_NOT_ACCEPTED');
    assert.equal(
      ((await gql(h, '{ me { access pendingAupVersion } }', {}, cookie)).data as { me: unknown }).me !== null,
      true,
    );
    // The deadline passes: the sweep suspends the membership.
    offsetMs = 3 * DAY;
    const vo = new VoService(h.orm.em.fork(), h.identity.voOptions());
    const swept = await vo.enforce(CLI_ACTOR);
    assert.ok(swept.suspended >= 1);
    const m = await h.orm.em.fork().findOneOrFail(Membership, { userId: doc.user.id });
    assert.equal(m.status, 'suspended');
    assert.equal(m.suspensionKind, 'aup');
    h.identity.authCache.clear();
    assert.equal(code(await groups(cookie)), 'AUP_NOT_ACCEPTED');
    assert.equal(
      (await gql(h, 'mutation($v: Int!) { acceptAup(version: $v) }', { v: version }, cookie)).data?.acceptAup,
      true,
    );
    assert.equal(code(await groups(cookie)), 'OK');
    offsetMs = 0;
  });

  test('a membership expires after its term plus grace', async () => {
    const doc = await account(h, { name: 'Expiring Doctor', facility: 'Kyiv1', groupPath: '/medgrid/kyiv1' });
    const aup = await new VoService(h.orm.em.fork(), h.identity.voOptions()).currentAup();
    if (aup)
      await new VoService(h.orm.em.fork(), h.identity.voOptions()).acceptAup(
        CLI_ACTOR,
        doc.user.id,
        aup.version,
      );
    offsetMs = 370 * DAY; // past the 365-day term, inside the 30-day grace period
    const em = h.orm.em.fork();
    const vo = new VoService(em, h.identity.voOptions());
    const m = await em.findOneOrFail(Membership, { userId: doc.user.id });
    const { effectiveStatus } = await import('../vo/vo.service.js');
    assert.equal(effectiveStatus(m, clock(), 30), 'active');
    offsetMs = 396 * DAY;
    assert.equal(effectiveStatus(m, clock(), 30), 'expired');
    const r = await vo.enforce(CLI_ACTOR);
    assert.ok(r.expired >= 1);
    assert.equal((await em.fork().findOneOrFail(Membership, { userId: doc.user.id })).status, 'expired');
    offsetMs = 0;
  });

  test('group managers approve requests only in their own groups', async () => {
    const mgr = await account(h, {
      name: 'Kyiv Manager',
      facility: 'Kyiv1',
      groupPath: '/medgrid/kyiv1',
      roles: ['group-manager'],
    });
    const aup = await new VoService(h.orm.em.fork(), h.identity.voOptions()).currentAup();
    if (aup)
      await new VoService(h.orm.em.fork(), h.identity.voOptions()).acceptAup(
        CLI_ACTOR,
        mgr.user.id,
        aup.version,
      );
    const mgrCookie = await signIn(h, mgr);
    const inKyiv = await account(h, {
      name: 'Kyiv Applicant',
      facility: 'Kyiv1',
      groupPath: '/medgrid/kyiv1/cardio',
      membership: 'requested',
    });
    const inLviv = await account(h, {
      name: 'Lviv Applicant',
      facility: 'Lviv',
      groupPath: '/medgrid/lviv',
      membership: 'requested',
    });
    const em = h.orm.em.fork();
    const mk = await em.findOneOrFail(Membership, { userId: inKyiv.user.id });
    const ml = await em.findOneOrFail(Membership, { userId: inLviv.user.id });
    const approve = (id: string) =>
      gql(
        h,
        'mutation($id: String!) { approveMembership(membershipId: $id) { status groupPath } }',
        { id },
        mgrCookie,
      );
    const ok = await approve(mk.id);
    assert.equal(code(ok), 'OK');
    assert.equal(
      (ok.data as { approveMembership: { groupPath: string } }).approveMembership.groupPath,
      '/medgrid/kyiv1/cardio',
    );
    const no = await approve(ml.id);
    assert.equal(code(no), 'FORBIDDEN');
    assert.match(no.errors![0]!.message, /do not manage \/medgrid\/lviv/);
  });
});
