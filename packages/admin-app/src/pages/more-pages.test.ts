import { flushPromises } from '@vue/test-utils';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import AppShell from '../app/AppShell.vue';
import { graphqlServer, mountWithApp, testMe } from '../test-support/mount-with-app.js';

const admin = testMe({ roles: [{ groupPath: '/medgrid', role: 'VO_ADMIN' }] });
const conn = (nodes: unknown[], hasNextPage = false, endCursor: string | null = null) => ({
  edges: nodes.map((node) => ({ node })),
  pageInfo: { hasNextPage, endCursor },
});
const base = {
  Version: { data: { version: '0.1.0' } },
  Me: { data: { me: admin } },
  Users: {
    data: {
      users: conn([{ id: 'u-1', kind: 'person', name: 'Olena Doctor', facility: 'kyiv', email: null }]),
    },
  },
};
const groups = [
  { id: 'g0', path: '/medgrid', parentId: null, description: null },
  { id: 'g1', path: '/medgrid/kyiv', parentId: 'g0', description: 'Kyiv clinic' },
  { id: 'g2', path: '/medgrid/kyiv/radiology', parentId: 'g1', description: null },
];

describe('groups page', () => {
  beforeEach(() => localStorage.clear());

  it('shows the tree, creates a subgroup, renames, moves and assigns a group manager', async () => {
    const server = graphqlServer({
      ...base,
      VoGroups: { data: { voGroups: groups } },
      CreateVoGroup: {
        data: { createVoGroup: { id: 'g3', path: '/medgrid/kyiv/icu', parentId: 'g1', description: null } },
      },
      RenameVoGroup: { data: { renameVoGroup: { ...groups[2], path: '/medgrid/kyiv/imaging' } } },
      MoveVoGroup: { data: { moveVoGroup: { ...groups[2], path: '/medgrid/radiology' } } },
      AssignRole: {
        data: { assignRole: { userId: 'u-1', groupPath: '/medgrid/kyiv', role: 'GROUP_MANAGER' } },
      },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/groups' });
    const nodes = wrapper.findAll('[data-testid="group-node"]');
    expect(nodes.map((n) => n.attributes('data-path'))).toEqual([
      '/medgrid',
      '/medgrid/kyiv',
      '/medgrid/kyiv/radiology',
    ]);
    expect(nodes[2]?.attributes('style')).toContain('padding-left: 3rem');

    await wrapper.get('[data-testid="group-parent"]').setValue('/medgrid/kyiv');
    await wrapper.get('[data-testid="group-name"]').setValue('icu');
    await wrapper.get('[data-testid="group-create-form"]').trigger('submit');
    await flushPromises();
    const vars = (op: string) => server.requests.find((r) => r.body.operationName === op)?.body.variables;
    expect(vars('CreateVoGroup')).toEqual({ path: '/medgrid/kyiv/icu', description: null });

    const radiology = wrapper.findAll('[data-testid="group-node"]')[2]!;
    await radiology.get('[data-testid="group-rename-input"]').setValue('imaging');
    await radiology.get('[data-testid="group-rename"]').trigger('click');
    await flushPromises();
    expect(vars('RenameVoGroup')).toEqual({ groupId: 'g2', name: 'imaging' });
    const again = wrapper.findAll('[data-testid="group-node"]')[2]!;
    await again.get('[data-testid="group-move-select"]').setValue('/medgrid');
    await again.get('[data-testid="group-move"]').trigger('click');
    await flushPromises();
    expect(vars('MoveVoGroup')).toEqual({ groupId: 'g2', newParentPath: '/medgrid' });

    await wrapper.get('[data-testid="role-user"]').setValue('u-1');
    await wrapper.get('[data-testid="role-group"]').setValue('/medgrid/kyiv');
    await wrapper.get('[data-testid="role-role"]').setValue('GROUP_MANAGER');
    await wrapper.get('[data-testid="role-form"]').trigger('submit');
    await flushPromises();
    expect(vars('AssignRole')).toEqual({ userId: 'u-1', groupPath: '/medgrid/kyiv', role: 'GROUP_MANAGER' });
    expect(wrapper.get('[data-testid="groups-message"]').text()).toBe('Done.');
  });

  it('shows the server refusal', async () => {
    const server = graphqlServer({
      ...base,
      VoGroups: { data: { voGroups: groups } },
      CreateVoGroup: {
        data: null,
        errors: [{ message: 'group /medgrid/kyiv exists', extensions: { code: 'CONFLICT' } }],
      },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/groups' });
    await wrapper.get('[data-testid="group-name"]').setValue('kyiv');
    await wrapper.get('[data-testid="group-create-form"]').trigger('submit');
    await flushPromises();
    expect(wrapper.get('[data-testid="api-error"]').text()).toBe('group /medgrid/kyiv exists');
  });
});

describe('AUP and exports page', () => {
  it('publishes a new AUP version with its deadline and shows the grid-mapfile', async () => {
    const server = graphqlServer({
      ...base,
      CurrentAup: { data: { currentAup: null } },
      PublishAup: (v: Record<string, unknown>) => ({
        data: {
          publishAup: { version: 1, text: v.text, publishedAt: '2026-11-25T10:00:00Z', acceptBy: v.acceptBy },
        },
      }),
      GridMapfile: { data: { gridMapfile: '"/DC=ua/DC=medgrid/CN=Olena Doctor" medgrid\n' } },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/policy' });
    expect(wrapper.get('[data-testid="aup-current"]').text()).toContain('No AUP has been published.');
    await wrapper.get('[data-testid="aup-text"]').setValue('Use MedGrid for care and teaching only.');
    await wrapper.get('[data-testid="aup-accept-by"]').setValue('2030-01-31T12:00');
    await wrapper.get('[data-testid="aup-form"]').trigger('submit');
    await flushPromises();
    const publish = server.requests.find((r) => r.body.operationName === 'PublishAup')?.body.variables;
    expect(publish?.text).toBe('Use MedGrid for care and teaching only.');
    expect(new Date(String(publish?.acceptBy)).getTime()).toBe(new Date('2030-01-31T12:00').getTime());
    expect(wrapper.get('[data-testid="aup-version"]').text()).toContain('Version 1');

    await wrapper.get('[data-testid="export-gridmap"]').trigger('click');
    await flushPromises();
    expect(wrapper.get('[data-testid="export-content"]').text()).toContain('CN=Olena Doctor');
  });
});

describe('audit page', () => {
  const event = (id: string, action: string) => ({
    id,
    at: '2026-11-25T10:00:00Z',
    actor: 'Ada Admin [u-0]',
    action,
    target: 'cert:0a',
    ip: '127.0.0.1',
    details: '{"serial":"0a","note":"say \\"hi\\""}',
  });

  it('searches by user, action and date range, pages on, and exports every page as CSV', async () => {
    const server = graphqlServer({
      ...base,
      AuditEvents: (v: Record<string, unknown>) => ({
        data: {
          auditEvents: v.after
            ? conn([event('e2', 'certificate.issue')])
            : conn([event('e1', 'certificate.revoke')], true, 'c1'),
        },
      }),
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/audit' });
    await wrapper.get('[data-testid="audit-actor"]').setValue('Ada');
    await wrapper.get('[data-testid="audit-action"]').setValue('certificate.');
    await wrapper.get('[data-testid="audit-from"]').setValue('2026-11-01');
    await wrapper.get('[data-testid="audit-to"]').setValue('2026-11-30');
    await wrapper.get('[data-testid="audit-form"]').trigger('submit');
    await flushPromises();
    const search = server.requests.filter((r) => r.body.operationName === 'AuditEvents').at(-1)
      ?.body.variables;
    expect(search).toMatchObject({
      actor: 'Ada',
      action: 'certificate.',
      target: null,
      first: 100,
      after: null,
    });
    expect(new Date(String(search?.from)).getTime()).toBe(new Date('2026-11-01T00:00:00').getTime());
    expect(new Date(String(search?.to)).getTime()).toBe(new Date('2026-11-30T23:59:59.999').getTime());
    expect(wrapper.findAll('[data-testid="audit-row"]')).toHaveLength(1);
    await wrapper.get('[data-testid="audit-more"]').trigger('click');
    await flushPromises();
    expect(wrapper.findAll('[data-testid="audit-row"]')).toHaveLength(2);

    const blobs: Blob[] = [];
    const create = vi.spyOn(URL, 'createObjectURL').mockImplementation((b) => {
      blobs.push(b as Blob);
      return 'blob:test';
    });
    await wrapper.get('[data-testid="audit-export"]').trigger('click');
    await flushPromises();
    create.mockRestore();
    const csv = await blobs[0]!.text();
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('at,actor,action,target,ip,details');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('"certificate.revoke"');
    expect(lines[1]).toContain('"{""serial"":""0a"",""note"":""say \\""hi\\""""}"');
    expect(lines[2]).toContain('"certificate.issue"');
  });
});

describe('accounts page', () => {
  it('lists accounts, shows a service account with its certificates and creates one', async () => {
    const gateway = { id: 'u-g', kind: 'service', name: 'Kyiv gateway', facility: 'kyiv', email: null };
    const server = graphqlServer({
      ...base,
      Users: { data: { users: conn([gateway]) } },
      Certificates: (v: Record<string, unknown>) => ({
        data: {
          certificates: conn(
            v.userId === 'u-g'
              ? [
                  {
                    serial: '2b',
                    subject: 'CN=Kyiv gateway',
                    profile: 'service',
                    userId: 'u-g',
                    notBefore: '2026-01-01T00:00:00Z',
                    notAfter: '2027-01-01T00:00:00Z',
                    status: 'VALID',
                    issuedAt: '2026-01-01T00:00:00Z',
                    revokedAt: null,
                    revocationReason: null,
                  },
                ]
              : [],
          ),
        },
      }),
      CreateUser: { data: { createUser: { ...gateway, id: 'u-h', name: 'Lviv gateway' } } },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/accounts' });
    expect(wrapper.get('[data-testid="account-row"]').text()).toContain('service account');
    await wrapper.get('[data-testid="account-certificates"]').trigger('click');
    await flushPromises();
    expect(wrapper.get('[data-testid="account-certificate-list"]').text()).toContain('2b');
    await wrapper.get('[data-testid="account-name"]').setValue('Lviv gateway');
    await wrapper.get('[data-testid="account-facility"]').setValue('lviv');
    await wrapper.get('[data-testid="account-create-form"]').trigger('submit');
    await flushPromises();
    expect(server.requests.find((r) => r.body.operationName === 'CreateUser')?.body.variables).toEqual({
      input: { name: 'Lviv gateway', facility: 'lviv', kind: 'service', email: null },
    });
    expect(wrapper.get('[data-testid="accounts-message"]').text()).toContain('Lviv gateway');
  });
});

describe('facilities and gateways', () => {
  it('lists only service accounts, by facility, with their active roles and current certificate', async () => {
    const cert = (userId: string, status: string, notAfter: string, serial: string) => ({
      serial,
      subject: `CN=${userId}`,
      profile: 'service',
      userId,
      notBefore: '2026-01-01T00:00:00Z',
      notAfter,
      status,
      issuedAt: '2026-01-01T00:00:00Z',
      revokedAt: null,
      revocationReason: null,
    });
    const server = graphqlServer({
      ...base,
      Users: {
        data: {
          users: conn([
            { id: 'u-l', kind: 'service', name: 'Lviv gateway', facility: 'lviv', email: null },
            { id: 'u-k', kind: 'service', name: 'Kyiv gateway', facility: 'kyiv', email: null },
          ]),
        },
      },
      Memberships: (v: Record<string, unknown>) => ({
        data: {
          memberships: conn(
            v.userId === 'u-k'
              ? [{ id: 'm1', userId: 'u-k', groupPath: '/medgrid/kyiv', roles: ['GATEWAY'] }]
              : [],
          ),
        },
      }),
      Certificates: (v: Record<string, unknown>) => ({
        data: {
          certificates: conn(
            v.userId === 'u-k'
              ? [
                  cert('u-k', 'REVOKED', '2027-03-01T00:00:00Z', '3c'),
                  cert('u-k', 'VALID', '2027-02-01T00:00:00Z', '2b'),
                ]
              : [cert('u-l', 'EXPIRED', '2026-02-01T00:00:00Z', '1a')],
          ),
        },
      }),
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/facilities' });
    expect(wrapper.get('[data-testid="page-title"]').text()).toBe('Facilities and gateways');
    const vars = (op: string) =>
      server.requests.filter((r) => r.body.operationName === op).map((r) => r.body.variables);
    expect(vars('Users')[0]).toMatchObject({ kind: 'service' });
    expect(vars('Memberships')).toEqual(
      expect.arrayContaining([expect.objectContaining({ userId: 'u-k', status: 'ACTIVE' })]),
    );
    const rows = wrapper.findAll('[data-testid="account-row"]');
    expect(rows.map((r) => r.attributes('data-name'))).toEqual(['Kyiv gateway', 'Lviv gateway']);
    expect(rows[0]!.get('[data-testid="account-roles"]').text()).toBe('gateway');
    expect(rows[0]!.get('[data-testid="account-current-certificate"]').text()).toMatch(/^valid until /);
    expect(rows[1]!.get('[data-testid="account-current-certificate"]').text()).toContain('none valid');
  });
});

describe('overview', () => {
  it('lists what ends within 30 days', async () => {
    const server = graphqlServer({
      ...base,
      ExpiringSoon: {
        data: {
          expiringSoon: {
            certificates: [
              {
                serial: '3c',
                subject: 'CN=Soon Gone',
                profile: 'client',
                userId: 'u-3',
                notBefore: '2026-01-01T00:00:00Z',
                notAfter: '2026-12-01T00:00:00Z',
                status: 'EXPIRING',
                issuedAt: '2026-01-01T00:00:00Z',
                revokedAt: null,
                revocationReason: null,
              },
            ],
            memberships: [],
          },
        },
      },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/' });
    expect(wrapper.get('[data-testid="expiring-certificates"]').text()).toContain('CN=Soon Gone');
    expect(server.requests.find((r) => r.body.operationName === 'ExpiringSoon')?.body.variables).toEqual({
      days: 30,
    });
  });
});

describe('AUP re-acceptance', () => {
  it('an administrator waiting for the new AUP accepts it and gets the app back', async () => {
    let access = 'AUP_REQUIRED';
    const server = graphqlServer({
      ...base,
      Me: () => ({ data: { me: { ...admin, access, pendingAupVersion: access === 'ACTIVE' ? null : 2 } } }),
      CurrentAup: {
        data: { currentAup: { version: 2, text: 'Be careful.', acceptBy: '2030-01-01T00:00:00Z' } },
      },
      AcceptAup: () => {
        access = 'ACTIVE';
        return { data: { acceptAup: true } };
      },
      ExpiringSoon: { data: { expiringSoon: { certificates: [], memberships: [] } } },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/certificates' });
    expect(wrapper.get('[data-testid="page-title"]').text()).toBe('Administrators only');
    expect(wrapper.get('[data-testid="refused-reason"]').text()).toContain('version 2');
    expect(wrapper.get('[data-testid="aup-text"]').text()).toBe('Be careful.');
    await wrapper.get('[data-testid="aup-accept"]').trigger('click');
    await flushPromises();
    expect(server.requests.find((r) => r.body.operationName === 'AcceptAup')?.body.variables).toEqual({
      version: 2,
    });
    expect(wrapper.get('[data-testid="page-title"]').text()).toBe('Administration');
  });
});
