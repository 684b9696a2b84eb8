import { flushPromises } from '@vue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import AppShell from '../app/AppShell.vue';
import { graphqlServer, mountWithApp, testMe } from '../test-support/mount-with-app.js';

const admin = testMe({
  roles: [
    { groupPath: '/medgrid', role: 'CA_OPERATOR' },
    { groupPath: '/medgrid', role: 'VO_ADMIN' },
  ],
});
const cert = (serial: string, subject: string, status = 'VALID') => ({
  serial,
  subject,
  profile: 'client',
  userId: `u-${serial}`,
  notBefore: '2026-01-01T00:00:00Z',
  notAfter: '2027-01-01T00:00:00Z',
  status,
  issuedAt: '2026-01-01T00:00:00Z',
  revokedAt: null,
  revocationReason: null,
});
const conn = (nodes: unknown[]) => ({
  edges: nodes.map((node) => ({ node })),
  pageInfo: { hasNextPage: false, endCursor: null },
});
const base = {
  Version: { data: { version: '0.1.0' } },
  Me: { data: { me: admin } },
  CrlStatus: {
    data: {
      crlStatus: {
        crlNumber: '3',
        thisUpdate: '2026-11-25T10:00:00Z',
        nextUpdate: '2026-11-26T10:00:00Z',
        revokedCount: 1,
        pemUrl: '/ca/crl.pem',
        derUrl: '/ca/crl.der',
      },
    },
  },
  Users: {
    data: {
      users: conn([{ id: 'u-1', kind: 'person', name: 'Olena Doctor', facility: 'kyiv', email: null }]),
    },
  },
};

describe('certificates page', () => {
  beforeEach(() => localStorage.clear());

  it('lists certificates, filters by status on the server and searches locally', async () => {
    const server = graphqlServer({
      ...base,
      Certificates: (v: Record<string, unknown>) => ({
        data: {
          certificates: conn(
            v.status === 'REVOKED'
              ? [cert('0c', 'CN=Gone', 'REVOKED')]
              : [cert('0a', 'CN=Olena Doctor'), cert('0b', 'CN=Petro Admin', 'EXPIRING')],
          ),
        },
      }),
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/certificates' });
    expect(wrapper.findAll('[data-testid="certificate-row"]')).toHaveLength(2);
    expect(wrapper.text()).toContain('expiring soon');
    expect(wrapper.get('[data-testid="crl-number"]').text()).toBe('3');
    await wrapper.get('[data-testid="cert-search"]').setValue('petro');
    expect(wrapper.findAll('[data-testid="certificate-row"]')).toHaveLength(1);
    await wrapper.get('[data-testid="cert-search"]').setValue('');
    await wrapper.get('[data-testid="cert-status-filter"]').setValue('REVOKED');
    await flushPromises();
    const last = server.requests.filter((r) => r.body.operationName === 'Certificates').at(-1);
    expect(last?.body.variables?.status).toBe('REVOKED');
    expect(wrapper.findAll('[data-testid="certificate-row"]')).toHaveLength(1);
    expect(wrapper.get('[data-testid="certificate-status"]').text()).toBe('revoked');
  });

  it('revokes only after the confirmation, with the chosen reason', async () => {
    const server = graphqlServer({
      ...base,
      Certificates: { data: { certificates: conn([cert('0a', 'CN=Olena Doctor')]) } },
      RevokeCertificate: { data: { revokeCertificate: cert('0a', 'CN=Olena Doctor', 'REVOKED') } },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/certificates' });
    await wrapper.get('[data-testid="certificate-revoke"]').trigger('click');
    expect(server.requests.some((r) => r.body.operationName === 'RevokeCertificate')).toBe(false);
    await wrapper.get('[data-testid="revoke-reason"]').setValue('KEY_COMPROMISE');
    await wrapper.get('[data-testid="revoke-confirm"]').trigger('submit');
    await flushPromises();
    const revoke = server.requests.find((r) => r.body.operationName === 'RevokeCertificate');
    expect(revoke?.body.variables).toEqual({ serial: '0a', reason: 'KEY_COMPROMISE' });
    expect(wrapper.get('[data-testid="certificates-message"]').text()).toContain('0a');
  });

  it('issues with a server-generated key for a new account and shows the password once', async () => {
    const server = graphqlServer({
      ...base,
      Certificates: { data: { certificates: conn([]) } },
      CreateUser: {
        data: {
          createUser: { id: 'u-9', kind: 'person', name: 'New Doctor', facility: 'lviv', email: null },
        },
      },
      IssueCertificateWithKey: {
        data: {
          issueCertificateWithKey: {
            certificate: { ...cert('0f', 'CN=New Doctor'), pem: 'PEM' },
            pkcs12Base64: 'AAEC',
            password: 'secret-pw',
          },
        },
      },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/certificates' });
    await wrapper.get('[data-testid="issue-user-new"]').setValue(true);
    await wrapper.get('[data-testid="issue-name"]').setValue('New Doctor');
    await wrapper.get('[data-testid="issue-facility"]').setValue('lviv');
    await wrapper.get('[data-testid="issue-form"]').trigger('submit');
    await flushPromises();
    const issue = server.requests.find((r) => r.body.operationName === 'IssueCertificateWithKey');
    expect(issue?.body.variables).toMatchObject({ userId: 'u-9' });
    expect(wrapper.get('[data-testid="issued-password"]').text()).toBe('secret-pw');
    await wrapper.get('[data-testid="issued-dismiss"]').trigger('click');
    expect(wrapper.find('[data-testid="issued-password"]').exists()).toBe(false);
  });
});

describe('certificates page: CSR', () => {
  it('issues from an uploaded CSR for an existing account and offers the PEM', async () => {
    const server = graphqlServer({
      ...base,
      Certificates: { data: { certificates: conn([]) } },
      IssueCertificateFromCsr: {
        data: { issueCertificateFromCsr: { ...cert('1a', 'CN=Olena Doctor'), pem: 'PEM' } },
      },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/certificates' });
    await wrapper.get('[data-testid="issue-user"]').setValue('u-1');
    await wrapper.get('[data-testid="issue-mode-csr"]').setValue(true);
    const csr = '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n';
    const input = wrapper.get('[data-testid="issue-csr-file"]');
    Object.defineProperty(input.element, 'files', { value: [new File([csr], 'olena.csr')] });
    await input.trigger('change');
    await flushPromises();
    expect((wrapper.get('[data-testid="issue-csr"]').element as HTMLTextAreaElement).value).toBe(csr);
    await wrapper.get('[data-testid="issue-validity"]').setValue('30');
    await wrapper.get('[data-testid="issue-form"]').trigger('submit');
    await flushPromises();
    const issue = server.requests.find((r) => r.body.operationName === 'IssueCertificateFromCsr');
    expect(issue?.body.variables).toEqual({ userId: 'u-1', csrPem: csr, validityDays: 30 });
    expect(wrapper.find('[data-testid="issued-password"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="download-pem"]').exists()).toBe(true);
  });

  it('loads the next page of certificates', async () => {
    const server = graphqlServer({
      ...base,
      Certificates: (v: Record<string, unknown>) => ({
        data: {
          certificates: v.after
            ? conn([cert('0b', 'CN=B')])
            : { edges: [{ node: cert('0a', 'CN=A') }], pageInfo: { hasNextPage: true, endCursor: 'c1' } },
        },
      }),
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/certificates' });
    await wrapper.get('[data-testid="certificates-more"]').trigger('click');
    await flushPromises();
    expect(wrapper.findAll('[data-testid="certificate-row"]')).toHaveLength(2);
    expect(wrapper.find('[data-testid="certificates-more"]').exists()).toBe(false);
  });
});

describe('membership pages', () => {
  const membership = (status: string) => ({
    id: 'm-1',
    userId: 'u-1',
    userName: 'Olena Doctor',
    userFacility: 'kyiv',
    groupPath: '/medgrid/kyiv',
    status,
    requestedRole: 'DOCTOR',
    requestedAt: '2026-11-25T10:00:00Z',
    decidedAt: null,
    reason: null,
    activatedAt: null,
    expiresAt: null,
    suspensionKind: null,
    roles: ['DOCTOR'],
  });

  it('the members table lists the roles each member holds in the group', async () => {
    const server = graphqlServer({
      ...base,
      Memberships: {
        data: {
          memberships: conn([{ ...membership('ACTIVE'), roles: ['DOCTOR', 'GROUP_MANAGER'] }]),
        },
      },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/members' });
    const roles = wrapper.get('[data-testid="member-roles"]').findAll('.badge');
    expect(roles.map((r) => r.text())).toEqual(['doctor', 'group manager']);
  });

  it('the request queue approves a request', async () => {
    const server = graphqlServer({
      ...base,
      Memberships: { data: { memberships: conn([membership('REQUESTED')]) } },
      ApproveMembership: { data: { approveMembership: membership('ACTIVE') } },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/requests' });
    expect(server.requests.find((r) => r.body.operationName === 'Memberships')?.body.variables?.status).toBe(
      'REQUESTED',
    );
    await wrapper.get('[data-testid="member-approve"]').trigger('click');
    await flushPromises();
    expect(server.requests.find((r) => r.body.operationName === 'ApproveMembership')?.body.variables).toEqual(
      {
        membershipId: 'm-1',
      },
    );
  });

  it('rejecting needs a reason', async () => {
    const server = graphqlServer({
      ...base,
      Memberships: { data: { memberships: conn([membership('REQUESTED')]) } },
      RejectMembership: { data: { rejectMembership: membership('REJECTED') } },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch, path: '/requests' });
    await wrapper.get('[data-testid="member-reject"]').trigger('click');
    await wrapper.get('[data-testid="member-reason-confirm"]').trigger('click');
    expect(wrapper.text()).toContain('Give a reason.');
    await wrapper.get('[data-testid="member-reason"]').setValue('unknown person');
    await wrapper.get('[data-testid="member-reason-confirm"]').trigger('click');
    await flushPromises();
    expect(server.requests.find((r) => r.body.operationName === 'RejectMembership')?.body.variables).toEqual({
      membershipId: 'm-1',
      reason: 'unknown person',
    });
  });
});
