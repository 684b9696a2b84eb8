import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { account, gql, type Harness, signIn, startHarness } from '../auth/test-harness.util.js';

/** The admin app's members table shows each member's roles in the membership's group. */
describe('memberships list the roles held in their group (real PostgreSQL)', () => {
  let h: Harness;
  let cookie = '';
  before(async () => {
    h = await startHarness();
    const admin = await account(h, {
      name: 'Roles Admin',
      facility: 'MedGrid',
      groupPath: '/medgrid',
      roles: ['vo-admin'],
    });
    cookie = await signIn(h, admin);
  });
  after(() => h.close());

  test('granted and removed roles show up per membership; other groups do not leak in', async () => {
    const doc = await account(h, {
      name: 'Roles Doctor',
      facility: 'Lviv',
      groupPath: '/medgrid/lviv/cardio',
    });
    await account(h, { name: 'Other Doctor', facility: 'Lviv', groupPath: '/medgrid/lviv/cardio' });
    const grant = await gql(
      h,
      'mutation($u: String!) { assignRole(userId: $u, groupPath: "/medgrid/lviv/cardio", role: GROUP_MANAGER) { role } }',
      { u: doc.user.id },
      cookie,
    );
    assert.equal(grant.errors, undefined, JSON.stringify(grant.errors));
    const list = async () => {
      const r = await gql(
        h,
        '{ memberships(groupPath: "/medgrid/lviv/cardio", first: 10) { edges { node { userName roles } } } }',
        {},
        cookie,
      );
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      const edges = (r.data as { memberships: { edges: { node: { userName: string; roles: string[] } }[] } })
        .memberships.edges;
      return Object.fromEntries(edges.map((e) => [e.node.userName, e.node.roles]));
    };
    assert.deepEqual(await list(), {
      'Roles Doctor': ['DOCTOR', 'GROUP_MANAGER'],
      'Other Doctor': ['DOCTOR'],
    });
    await gql(
      h,
      'mutation($u: String!) { removeRole(userId: $u, groupPath: "/medgrid/lviv/cardio", role: DOCTOR) }',
      { u: doc.user.id },
      cookie,
    );
    assert.deepEqual((await list())['Roles Doctor'], ['GROUP_MANAGER']);
    const admins = await gql(
      h,
      '{ memberships(groupPath: "/medgrid", first: 10) { edges { node { userName roles } } } }',
      {},
      cookie,
    );
    const adminRow = (
      admins.data as { memberships: { edges: { node: { userName: string; roles: string[] } }[] } }
    ).memberships.edges.find((e) => e.node.userName === 'Roles Admin');
    assert.deepEqual(adminRow?.node.roles, ['VO_ADMIN']);
  });
});
