import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AuditEvent } from '../audit/audit-event.entity.js';
import {
  account,
  gql,
  type Harness,
  signIn,
  startHarness,
  type TestAccount,
} from '../auth/test-harness.util.js';
import { buildApp } from '../http/app.js';
import { createLogger } from '../logging/logger.js';
import { readPkcs12 } from './ca/index.js';
import { webCsr } from './ca/test-fixture.util.js';
import { pageSize } from './ids.util.js';

// biome-ignore lint/suspicious/noExplicitAny: GraphQL response data, checked field by field by the assertions.
type Data = Record<string, any>;

describe('identity GraphQL API: certificates, VO, exports and audit', () => {
  let h: Harness;
  let admin: TestAccount;
  let cookie: string;
  const q = async (query: string, variables: Record<string, unknown> = {}, as = cookie): Promise<Data> => {
    const r = await gql(h, query, variables, as);
    if (r.errors) throw new Error(`${r.errors[0]!.extensions?.code}: ${r.errors[0]!.message}`);
    return r.data as Data;
  };
  before(async () => {
    h = await startHarness();
    admin = await account(h, { name: 'Api Admin', facility: 'MedGrid', roles: ['vo-admin', 'ca-operator'] });
    cookie = await signIn(h, admin);
  });
  after(() => h.close());

  test('issue from a CSR: the subject comes from the account, never from the CSR', async () => {
    const u = (
      await q('mutation { createUser(input: { name: "Iryna Koval", facility: "Lviv Hospital" }) { id } }')
    ).createUser;
    const csr = await webCsr('ec-p256', 'CN=Mallory Admin, O=Some Other Org, OU=service', true);
    const c = (
      await q(
        'mutation($u: String!, $c: String!) { issueCertificateFromCsr(userId: $u, csrPem: $c, validityDays: 20) { serial subject profile status userId } }',
        { u: u.id, c: csr.pem },
      )
    ).issueCertificateFromCsr;
    assert.equal(c.subject, '/DC=ua/DC=medgrid/O=Lviv Hospital/CN=Iryna Koval');
    assert.equal(c.profile, 'client');
    assert.equal(c.status, 'EXPIRING', '20 days is within the 30-day expiring window');
    const bad = await gql(
      h,
      'mutation($u: String!) { issueCertificateFromCsr(userId: $u, csrPem: "garbage") { serial } }',
      { u: u.id },
      cookie,
    );
    assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    const soon = (await q('{ expiringSoon(days: 30) { certificates { serial } } }')).expiringSoon;
    assert.ok(soon.certificates.some((x: { serial: string }) => x.serial === c.serial));
  });

  test('issue with a server key returns the PKCS#12 once; renew keeps the subject and links the old serial', async () => {
    const u = (
      await q(
        'mutation { createUser(input: { name: "Gateway Lviv", facility: "Lviv Hospital", kind: "service" }) { id } }',
      )
    ).createUser;
    const b = (
      await q(
        'mutation($u: String!) { issueCertificateWithKey(userId: $u) { certificate { serial subject } pkcs12Base64 password } }',
        { u: u.id },
      )
    ).issueCertificateWithKey;
    assert.equal(b.certificate.subject, '/DC=ua/DC=medgrid/O=Lviv Hospital/OU=service/CN=Gateway Lviv');
    const p12 = await readPkcs12(Buffer.from(b.pkcs12Base64, 'base64'), b.password);
    assert.ok(p12.privateKey);
    const r = (
      await q(
        'mutation($s: String!) { renewCertificate(serial: $s) { certificate { serial subject renewsSerial } pkcs12Base64 password } }',
        { s: b.certificate.serial },
      )
    ).renewCertificate;
    assert.notEqual(r.certificate.serial, b.certificate.serial);
    assert.equal(r.certificate.subject, b.certificate.subject);
    assert.equal(r.certificate.renewsSerial, b.certificate.serial);
    assert.ok(r.pkcs12Base64 && r.password);
    const csr = await webCsr('ec-p256', 'CN=x', true);
    const r2 = (
      await q(
        'mutation($s: String!, $c: String!) { renewCertificate(serial: $s, csrPem: $c) { certificate { serial } pkcs12Base64 } }',
        { s: r.certificate.serial, c: csr.pem },
      )
    ).renewCertificate;
    assert.equal(r2.pkcs12Base64, null);

    // The facilities view lists service accounts only; an unknown kind is refused.
    const services = (
      await q('{ users(kind: "service", first: 100) { edges { node { name kind facility } } } }')
    ).users.edges.map((e: { node: { name: string; kind: string } }) => e.node);
    assert.ok(services.some((x: { name: string }) => x.name === 'Gateway Lviv'));
    assert.ok(services.every((x: { kind: string }) => x.kind === 'service'));
    const persons = (await q('{ users(kind: "person", first: 100) { edges { node { kind } } } }')).users
      .edges;
    assert.ok(
      persons.length > 0 && persons.every((e: { node: { kind: string } }) => e.node.kind === 'person'),
    );
    const wrong = await gql(h, '{ users(kind: "robot") { edges { node { id } } } }', {}, cookie);
    assert.equal(wrong.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  });

  test('certificate list: status filter and cursor pagination (first/after, at most 100)', async () => {
    const all = (
      await q(
        '{ certificates(first: 100) { edges { cursor node { serial status } } pageInfo { hasNextPage endCursor } } }',
      )
    ).certificates;
    assert.ok(all.edges.length >= 5);
    const p1 = (
      await q('{ certificates(first: 2) { edges { node { serial } } pageInfo { hasNextPage endCursor } } }')
    ).certificates;
    assert.equal(p1.edges.length, 2);
    assert.equal(p1.pageInfo.hasNextPage, true);
    const p2 = (
      await q('query($a: String!) { certificates(first: 2, after: $a) { edges { node { serial } } } }', {
        a: p1.pageInfo.endCursor,
      })
    ).certificates;
    assert.deepEqual(
      [...p1.edges, ...p2.edges].map((e: Data) => e.node.serial),
      all.edges.slice(0, 4).map((e: Data) => e.node.serial),
    );
    const serial = all.edges[0].node.serial;
    await q('mutation($s: String!) { revokeCertificate(serial: $s, reason: SUPERSEDED) { serial } }', {
      s: serial,
    });
    const revoked = (await q('{ certificates(status: REVOKED) { edges { node { serial status } } } }'))
      .certificates.edges;
    assert.deepEqual(
      revoked.map((e: Data) => e.node),
      [{ serial, status: 'REVOKED' }],
    );
    const again = await gql(
      h,
      'mutation($s: String!) { revokeCertificate(serial: $s, reason: SUPERSEDED) { serial } }',
      { s: serial },
      cookie,
    );
    assert.equal(again.errors?.[0]?.extensions?.code, 'CONFLICT');
    assert.equal(pageSize(1000), 100);
    assert.equal(pageSize(undefined), 50);
  });

  test('groups: create, rename and move carry their subgroups; a group cannot move below itself', async () => {
    await q('mutation { createVoGroup(path: "/medgrid/odesa") { id } }');
    const dept = (await q('mutation { createVoGroup(path: "/medgrid/odesa/surgery") { id } }')).createVoGroup;
    await q('mutation { createVoGroup(path: "/medgrid/odesa/surgery/night") { id } }');
    const odesa = (await q('{ voGroups { id path } }')).voGroups.find(
      (g: Data) => g.path === '/medgrid/odesa',
    );
    await q('mutation($g: String!) { renameVoGroup(groupId: $g, name: "odesa-city") { path } }', {
      g: odesa.id,
    });
    let paths = (await q('{ voGroups { path } }')).voGroups.map((g: Data) => g.path);
    assert.ok(paths.includes('/medgrid/odesa-city/surgery/night'));
    await q('mutation { createVoGroup(path: "/medgrid/south") { id } }');
    await q('mutation($g: String!) { moveVoGroup(groupId: $g, newParentPath: "/medgrid/south") { path } }', {
      g: dept.id,
    });
    paths = (await q('{ voGroups { path } }')).voGroups.map((g: Data) => g.path);
    assert.ok(paths.includes('/medgrid/south/surgery/night'));
    assert.ok(!paths.some((p: string) => p.startsWith('/medgrid/odesa-city/surgery')));
    const loop = await gql(
      h,
      'mutation($g: String!) { moveVoGroup(groupId: $g, newParentPath: "/medgrid/south/surgery/night") { path } }',
      { g: dept.id },
      cookie,
    );
    assert.equal(loop.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    const bad = await gql(h, 'mutation { createVoGroup(path: "/other/x") { id } }', {}, cookie);
    assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  });

  test('membership requested → rejected with a reason → requested again → approved → active; grid-mapfile and authdb list active members only', async () => {
    const applicant = await account(h, {
      name: 'Taras Applicant',
      facility: 'South',
      groupPath: '/medgrid/south',
      membership: 'none',
    });
    const ac = await signIn(h, applicant);
    assert.equal((await gql(h, '{ voGroups { path } }', {}, ac)).errors?.[0]?.extensions?.code, 'FORBIDDEN');
    const m = (
      await q(
        'mutation { requestMembership(groupPath: "/medgrid/south/surgery") { id status requestedRole } }',
        {},
        ac,
      )
    ).requestMembership;
    assert.deepEqual([m.status, m.requestedRole], ['REQUESTED', 'DOCTOR']);
    const pending = (
      await q('{ memberships(status: REQUESTED) { edges { node { id groupPath userName } } } }')
    ).memberships.edges;
    assert.ok(
      pending.some(
        (e: Data) =>
          e.node.id === m.id &&
          e.node.groupPath === '/medgrid/south/surgery' &&
          e.node.userName === 'Taras Applicant',
      ),
    );
    const byUser = (
      await q('query($u: String!) { memberships(userId: $u) { edges { node { id } } } }', {
        u: applicant.user.id,
      })
    ).memberships.edges;
    assert.deepEqual(
      byUser.map((e: Data) => e.node.id),
      [m.id],
    );
    // Naming a parent group lists its subgroups' memberships too.
    const south = (await q('{ memberships(groupPath: "/medgrid/south") { edges { node { id } } } }'))
      .memberships.edges;
    assert.ok(south.some((e: Data) => e.node.id === m.id));
    const other = (await q('{ memberships(groupPath: "/medgrid/odesa-city") { edges { node { id } } } }'))
      .memberships.edges;
    assert.ok(!other.some((e: Data) => e.node.id === m.id));
    const rej = (
      await q(
        'mutation($m: String!) { rejectMembership(membershipId: $m, reason: "unknown applicant") { status reason } }',
        { m: m.id },
      )
    ).rejectMembership;
    assert.deepEqual(rej, { status: 'REJECTED', reason: 'unknown applicant' });
    await q('mutation { requestMembership(groupPath: "/medgrid/south/surgery") { id } }', {}, ac);
    let map = (await q('{ gridMapfile }')).gridMapfile as string;
    assert.doesNotMatch(map, /Taras Applicant/);
    const ok = (
      await q('mutation($m: String!) { approveMembership(membershipId: $m) { status expiresAt } }', {
        m: m.id,
      })
    ).approveMembership;
    assert.equal(ok.status, 'ACTIVE');
    const days = (new Date(ok.expiresAt).getTime() - Date.now()) / 864e5;
    assert.ok(days > 364 && days <= 365, `term of 365 days, got ${days}`);
    const me = (await q('{ me { access roles { groupPath role } } }', {}, ac)).me;
    assert.deepEqual(me, {
      access: 'ACTIVE',
      roles: [{ groupPath: '/medgrid/south/surgery', role: 'DOCTOR' }],
    });
    map = (await q('{ gridMapfile }')).gridMapfile;
    const line = map.split('\n').find((l) => l.includes('CN=Taras Applicant'));
    assert.match(line!, /^"\/DC=ua\/DC=medgrid\/O=South\/CN=Taras Applicant" mg[0-9a-f]{12}$/);
    const account_ = line!.split(' ').at(-1);
    assert.match((await q('{ xrootdAuthdb }')).xrootdAuthdb, new RegExp(`^u ${account_} /medgrid rl$`, 'm'));
  });

  test('group managers grant doctor in their groups but not VO-wide roles', async () => {
    const mgr = await account(h, {
      name: 'South Manager',
      facility: 'South',
      groupPath: '/medgrid/south',
      roles: ['group-manager'],
    });
    const mc = await signIn(h, mgr);
    const target = await account(h, {
      name: 'South Doctor',
      facility: 'South',
      groupPath: '/medgrid/south/surgery',
    });
    const grant = (role: string, group: string) =>
      gql(
        h,
        `mutation($u: String!) { assignRole(userId: $u, groupPath: "${group}", role: ${role}) { role groupPath } }`,
        { u: target.user.id },
        mc,
      );
    assert.equal((await grant('DOCTOR', '/medgrid/south/surgery/night')).errors, undefined);
    assert.equal((await grant('VO_ADMIN', '/medgrid/south')).errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.equal((await grant('DOCTOR', '/medgrid/odesa-city')).errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.equal(
      (await grant('GROUP_MANAGER', '/medgrid/south/surgery')).errors?.[0]?.extensions?.code,
      'FORBIDDEN',
    );

    // No escalation through requests: a request for a privileged role needs a VO administrator,
    // nobody approves their own request, and VO-wide roles exist only in /medgrid.
    const climber = await account(h, {
      name: 'Climber',
      facility: 'South',
      groupPath: '/medgrid/south/surgery',
      membership: 'none',
    });
    const cc = await signIn(h, climber);
    const asked = await gql(
      h,
      'mutation { requestMembership(groupPath: "/medgrid/south/surgery", role: GROUP_MANAGER) { id } }',
      {},
      cc,
    );
    const id = (asked.data as Data).requestMembership.id;
    const approve = (as: string) =>
      gql(h, 'mutation($m: String!) { approveMembership(membershipId: $m) { status } }', { m: id }, as);
    assert.match(
      (await approve(mc)).errors![0]!.message,
      /only a VO administrator may approve a request for group-manager/,
    );
    const vw = await gql(
      h,
      'mutation { requestMembership(groupPath: "/medgrid/south", role: VO_ADMIN) { id } }',
      {},
      cc,
    );
    assert.equal(vw.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    const own = await gql(
      h,
      'mutation { requestMembership(groupPath: "/medgrid/south/surgery/night") { id } }',
      {},
      mc,
    );
    const ownId = (own.data as Data).requestMembership.id;
    const self = await gql(
      h,
      'mutation($m: String!) { approveMembership(membershipId: $m) { status } }',
      { m: ownId },
      mc,
    );
    assert.match(self.errors![0]!.message, /nobody decides on their own membership request/);
    const sub = await gql(
      h,
      'mutation($u: String!) { assignRole(userId: $u, groupPath: "/medgrid/south", role: CA_OPERATOR) { role } }',
      { u: target.user.id },
      cookie,
    );
    assert.equal(sub.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.deepEqual((await approve(cookie)).data, { approveMembership: { status: 'ACTIVE' } });
  });

  test('every identity change wrote an audit event with actor, time and address; search filters by action prefix', async () => {
    const events = await h.orm.em.fork().find(AuditEvent, {});
    const actions = new Set(events.map((e) => e.action));
    for (const a of [
      'user.create',
      'certificate.issue',
      'certificate.renew',
      'certificate.revoke',
      'vo.group.create',
      'vo.group.rename',
      'vo.group.move',
      'vo.membership.request',
      'vo.membership.reject',
      'vo.membership.approve',
      'vo.membership.activate',
      'vo.role.grant',
      'auth.signin',
    ]) {
      assert.ok(actions.has(a), `no ${a} event`);
    }
    const r = (
      await q(
        '{ auditEvents(action: "vo.group.", first: 100) { edges { node { action actor ip at target } } } }',
      )
    ).auditEvents.edges;
    assert.ok(r.length >= 5);
    for (const { node } of r) {
      assert.match(node.action, /^vo\.group\./);
      assert.match(node.actor, /CN=Api Admin/);
      assert.equal(node.ip, '127.0.0.1');
    }
    const json = JSON.stringify(events);
    assert.doesNotMatch(json, /BEGIN (ENCRYPTED )?PRIVATE KEY|pkcs12|password/i);
  });

  test('HTTP: a route without a rule cannot be registered; /dicomweb routes need an active member', async () => {
    const { app } = await buildApp({
      config: h.config,
      orm: h.orm,
      logger: createLogger({ level: 'silent', name: 'test' }),
      identity: h.identity,
      lifecycleTimer: false,
    });
    assert.throws(() => app.get('/secret-report', async () => 'x'), /has no rule in HTTP_ROUTE_RULES/);
    app.get('/dicomweb/probe', async () => ({ ok: true }));
    await app.ready();
    assert.equal((await app.inject('/dicomweb/probe')).statusCode, 401);
    assert.equal((await app.inject('/dicomweb/studies')).statusCode, 401);
    assert.equal((await app.inject({ url: '/dicomweb/probe', headers: { cookie } })).statusCode, 200);
    assert.equal((await app.inject('/ca/ca.pem')).statusCode, 200);
    await app.close();
  });
});
