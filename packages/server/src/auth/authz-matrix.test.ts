import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import { Query, Resolver } from 'type-graphql';
import { CLI_ACTOR } from '../audit/audit.service.js';
import { buildGraphqlSchema, fieldsWithoutRule, resolvers } from '../graphql/schema.js';
import { VoService } from '../vo/vo.service.js';
import { account, type Harness, httpsGql, startHarness, type TestAccount } from './test-harness.util.js';

/**
 * Who may call what. Written out by hand (not derived from the decorators), so a changed rule shows up here.
 * Principals: anonymous (no certificate), `requested` (valid certificate, membership only requested),
 * `aup-pending` (approved, current AUP not accepted), then active members with one role each.
 */
const PRINCIPALS = [
  'anonymous',
  'requested',
  'aup-pending',
  'doctor',
  'group-manager',
  'vo-admin',
  'ca-operator',
  'gateway',
] as const;
type P = (typeof PRINCIPALS)[number];
const ALL: P[] = [...PRINCIPALS];
const CERT: P[] = PRINCIPALS.filter((p) => p !== 'anonymous');
const MEMBERS: P[] = ['doctor', 'group-manager', 'vo-admin', 'ca-operator', 'gateway'];

const MATRIX: Record<string, { doc: string; allow: P[] }> = {
  'Query.version': { doc: '{ version }', allow: ALL },
  'Query.me': { doc: '{ me { userId } }', allow: ALL },
  'Query.crlStatus': { doc: '{ crlStatus { crlNumber } }', allow: ALL },
  'Query.myCertificates': { doc: '{ myCertificates { serial } }', allow: CERT },
  'Query.myMemberships': { doc: '{ myMemberships { id } }', allow: CERT },
  'Query.currentAup': { doc: '{ currentAup { version } }', allow: CERT },
  'Query.voGroups': { doc: '{ voGroups { path } }', allow: MEMBERS },
  'Query.users': {
    doc: '{ users(first: 5) { edges { node { id } } } }',
    allow: ['group-manager', 'vo-admin', 'ca-operator'],
  },
  'Query.doctors': { doc: '{ doctors(search: "Doc") { id name facility } }', allow: ['doctor'] },
  'Query.certificates': {
    doc: '{ certificates(first: 5) { edges { node { serial } } } }',
    allow: ['vo-admin', 'ca-operator'],
  },
  'Query.memberships': {
    doc: '{ memberships(groupPath: "/medgrid/kyiv1", first: 5) { edges { node { id } } } }',
    allow: ['group-manager', 'vo-admin'],
  },
  'Query.expiringSoon': {
    doc: '{ expiringSoon(days: 30) { certificates { serial } } }',
    allow: ['vo-admin', 'ca-operator'],
  },
  'Query.gridMapfile': { doc: '{ gridMapfile }', allow: ['vo-admin'] },
  'Query.xrootdAuthdb': { doc: '{ xrootdAuthdb }', allow: ['vo-admin'] },
  'Query.auditEvents': {
    doc: '{ auditEvents(first: 5) { edges { node { action } } } }',
    allow: ['vo-admin'],
  },
  'Mutation.requestChallenge': { doc: 'mutation { requestChallenge { nonceId } }', allow: ALL },
  'Mutation.signIn': {
    doc: 'mutation { signIn(certificatePem: "x", nonceId: "x", signature: "x", algorithm: "ECDSA") { expiresAt } }',
    allow: ALL,
  },
  'Mutation.signOut': { doc: 'mutation { signOut }', allow: CERT },
  'Mutation.createUser': {
    doc: 'mutation { createUser(input: { name: "", facility: "" }) { id } }',
    allow: ['vo-admin', 'ca-operator'],
  },
  'Mutation.issueCertificateFromCsr': {
    doc: 'mutation { issueCertificateFromCsr(userId: "x", csrPem: "x") { serial } }',
    allow: ['ca-operator'],
  },
  'Mutation.issueCertificateWithKey': {
    doc: 'mutation { issueCertificateWithKey(userId: "x") { password } }',
    allow: ['ca-operator'],
  },
  'Mutation.renewCertificate': {
    doc: 'mutation { renewCertificate(serial: "zz") { password } }',
    allow: ['ca-operator'],
  },
  'Mutation.revokeCertificate': {
    doc: 'mutation { revokeCertificate(serial: "zz", reason: KEY_COMPROMISE) { serial } }',
    allow: ['ca-operator'],
  },
  'Mutation.createVoGroup': {
    doc: 'mutation { createVoGroup(path: "bad path") { id } }',
    allow: ['vo-admin'],
  },
  'Mutation.renameVoGroup': {
    doc: 'mutation { renameVoGroup(groupId: "x", name: "y") { id } }',
    allow: ['vo-admin'],
  },
  'Mutation.moveVoGroup': {
    doc: 'mutation { moveVoGroup(groupId: "x", newParentPath: "/medgrid") { id } }',
    allow: ['vo-admin'],
  },
  'Mutation.requestMembership': {
    doc: 'mutation { requestMembership(groupPath: "/medgrid/none") { id } }',
    allow: CERT.filter((p) => p !== 'aup-pending'),
  },
  'Mutation.approveMembership': {
    doc: 'mutation { approveMembership(membershipId: "x") { id } }',
    allow: ['group-manager', 'vo-admin'],
  },
  'Mutation.rejectMembership': {
    doc: 'mutation { rejectMembership(membershipId: "x", reason: "r") { id } }',
    allow: ['group-manager', 'vo-admin'],
  },
  'Mutation.suspendMembership': {
    doc: 'mutation { suspendMembership(membershipId: "x", reason: "r") { id } }',
    allow: ['group-manager', 'vo-admin'],
  },
  'Mutation.restoreMembership': {
    doc: 'mutation { restoreMembership(membershipId: "x") { id } }',
    allow: ['group-manager', 'vo-admin'],
  },
  'Mutation.renewMembership': {
    doc: 'mutation { renewMembership(membershipId: "x") { id } }',
    allow: ['group-manager', 'vo-admin'],
  },
  'Mutation.assignRole': {
    doc: 'mutation { assignRole(userId: "x", groupPath: "/medgrid/none", role: DOCTOR) { role } }',
    allow: ['group-manager', 'vo-admin'],
  },
  'Mutation.removeRole': {
    doc: 'mutation { removeRole(userId: "x", groupPath: "/medgrid/none", role: DOCTOR) }',
    allow: ['group-manager', 'vo-admin'],
  },
  'Mutation.publishAup': {
    doc: 'mutation { publishAup(text: "t", acceptBy: "2000-01-01T00:00:00Z") { version } }',
    allow: ['vo-admin'],
  },
  'Mutation.acceptAup': { doc: 'mutation { acceptAup(version: 999) }', allow: ['aup-pending', ...MEMBERS] },
  // Studies and sharing: the rule admits doctors; which study a doctor may touch is checked by the services
  // (studies/studies-authz.test.ts runs the owner / grantee / unrelated matrix against a real study).
  'Query.studies': { doc: '{ studies(first: 5) { edges { node { id } } } }', allow: ['doctor'] },
  'Query.study': { doc: '{ study(id: "x") { id } }', allow: ['doctor'] },
  'Query.studyAccess': { doc: '{ studyAccess(studyId: "x") { userId } }', allow: ['doctor'] },
  'Query.studyShares': { doc: '{ studyShares(studyId: "x") { id } }', allow: ['doctor'] },
  'Query.studyAccessLog': {
    doc: '{ studyAccessLog(studyId: "x", first: 5) { edges { node { action } } } }',
    allow: ['doctor'],
  },
  'Mutation.shareStudy': {
    doc: 'mutation { shareStudy(studyId: "x", userId: "y", withIdentity: false) { id } }',
    allow: ['doctor'],
  },
  'Mutation.createShareLink': {
    doc: 'mutation { createShareLink(studyId: "x", withIdentity: false) { token } }',
    allow: ['doctor'],
  },
  'Mutation.createPatientLink': {
    doc: 'mutation { createPatientLink(studyId: "x") { token } }',
    allow: ['doctor'],
  },
  'Mutation.redeemShareLink': { doc: 'mutation { redeemShareLink(token: "x") { id } }', allow: ['doctor'] },
  'Mutation.revokeShare': { doc: 'mutation { revokeShare(shareId: "x") }', allow: ['doctor'] },
  'Mutation.deleteStudy': { doc: 'mutation { deleteStudy(studyId: "x") }', allow: ['doctor'] },
  // Storage administration (storage-admin/): vo-admin only; storage-admin.test.ts runs what they do.
  'Query.storageElements': { doc: '{ storageElements { name } }', allow: ['vo-admin'] },
  'Query.replicationHealth': { doc: '{ replicationHealth { objects } }', allow: ['vo-admin'] },
  'Query.ingestPerDay': { doc: '{ ingestPerDay(days: 3) { day } }', allow: ['vo-admin'] },
  'Query.storageJobs': { doc: '{ storageJobs(list: FAILED) { id } }', allow: ['vo-admin'] },
  'Query.storageJobCounts': { doc: '{ storageJobCounts { count } }', allow: ['vo-admin'] },
  'Query.scanReports': { doc: '{ scanReports { jobId } }', allow: ['vo-admin'] },
  'Mutation.setStorageElementStatus': {
    doc: 'mutation { setStorageElementStatus(name: "none", action: DISABLE) { name } }',
    allow: ['vo-admin'],
  },
  'Mutation.retryStorageJob': { doc: 'mutation { retryStorageJob(id: "x") { id } }', allow: ['vo-admin'] },
  'Mutation.startConsistencyScan': {
    doc: 'mutation { startConsistencyScan(se: "none") }',
    allow: ['vo-admin'],
  },
  'Mutation.enforceMembershipLifecycle': {
    doc: 'mutation { enforceMembershipLifecycle { expired } }',
    allow: ['vo-admin'],
  },
};

describe('authorisation matrix (real HTTPS + mTLS against the API)', () => {
  let h: Harness;
  const creds = new Map<P, TestAccount | undefined>();
  before(async () => {
    h = await startHarness({ tls: true });
    const g = '/medgrid/kyiv1/radiology';
    creds.set('anonymous', undefined);
    creds.set(
      'requested',
      await account(h, { name: 'Req User', facility: 'Kyiv1', groupPath: g, membership: 'requested' }),
    );
    creds.set('doctor', await account(h, { name: 'Doc User', facility: 'Kyiv1', groupPath: g }));
    creds.set(
      'group-manager',
      await account(h, {
        name: 'Mgr User',
        facility: 'Kyiv1',
        groupPath: '/medgrid/kyiv1',
        roles: ['group-manager'],
      }),
    );
    creds.set(
      'vo-admin',
      await account(h, {
        name: 'Admin User',
        facility: 'MedGrid',
        groupPath: '/medgrid',
        roles: ['vo-admin'],
      }),
    );
    creds.set(
      'ca-operator',
      await account(h, {
        name: 'CA User',
        facility: 'MedGrid',
        groupPath: '/medgrid',
        roles: ['ca-operator'],
      }),
    );
    creds.set(
      'gateway',
      await account(h, {
        name: 'Gateway Kyiv1',
        facility: 'Kyiv1',
        kind: 'service',
        groupPath: '/medgrid/kyiv1',
        roles: ['gateway'],
      }),
    );
    // An AUP everyone active has accepted; the aup-pending user is approved afterwards and has not.
    const em = h.orm.em.fork();
    const vo = new VoService(em, h.identity.voOptions());
    const aup = await vo.publishAup(
      CLI_ACTOR,
      'Use MedGrid for care and teaching only.',
      new Date(Date.now() + 7 * 864e5),
    );
    for (const p of MEMBERS) await vo.acceptAup(CLI_ACTOR, creds.get(p)!.user.id, aup.version);
    creds.set('aup-pending', await account(h, { name: 'New User', facility: 'Kyiv1', groupPath: g }));
  });
  after(() => h.close());

  test('every query and mutation of the schema is in the matrix, and vice versa', async () => {
    const r = await httpsGql(h, getIntrospectionQuery(), {}, creds.get('vo-admin'));
    const schema = (r.data as unknown as IntrospectionQuery).__schema;
    const names: string[] = [];
    for (const t of schema.types) {
      if ((t.name === 'Query' || t.name === 'Mutation') && t.kind === 'OBJECT') {
        for (const f of t.fields) names.push(`${t.name}.${f.name}`);
      }
    }
    assert.deepEqual(names.sort(), Object.keys(MATRIX).sort());
  });

  test('role × operation: allowed exactly where the matrix says', async () => {
    let checked = 0;
    const wrong: string[] = [];
    // signOut last: it would end nothing here (mTLS has no session), but keep it out of the way anyway.
    const ops = Object.entries(MATRIX).sort(
      ([a], [b]) => Number(a === 'Mutation.signOut') - Number(b === 'Mutation.signOut'),
    );
    for (const p of PRINCIPALS) {
      for (const [name, { doc, allow }] of ops) {
        const r = await httpsGql(h, doc, {}, creds.get(p));
        const denied = r.errors?.some((e) => e.extensions?.denied === true) ?? false;
        const expected = allow.includes(p);
        if (denied === expected)
          wrong.push(
            `${p} ${name}: expected ${expected ? 'allow' : 'deny'}, got ${JSON.stringify(r.errors?.[0])}`,
          );
        checked++;
      }
    }
    console.log(
      `authorisation matrix: ${checked} cases checked (${PRINCIPALS.length} principals × ${ops.length} operations)`,
    );
    assert.deepEqual(wrong, []);
    assert.equal(checked, PRINCIPALS.length * Object.keys(MATRIX).length);
  });

  test('a resolver without a rule is refused when the schema is built', async () => {
    @Resolver()
    class Unguarded {
      @Query(() => String)
      leak(): string {
        return 'secret';
      }
    }
    assert.deepEqual(fieldsWithoutRule(resolvers), []);
    assert.deepEqual(fieldsWithoutRule([Unguarded]), ['Unguarded.leak']);
    await assert.rejects(buildGraphqlSchema([Unguarded]), /without an @Authorized rule.*Unguarded\.leak/);
  });
});
