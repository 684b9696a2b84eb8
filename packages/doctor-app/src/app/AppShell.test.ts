import { flushPromises } from '@vue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import { graphqlServer, mountWithApp, testMe } from '../test-support/mount-with-app.js';
import AppShell from './AppShell.vue';

const answers = (me: unknown, memberships: unknown[] = []) => ({
  Version: { data: { version: '0.1.0' } },
  Me: { data: { me } },
  MyMemberships: { data: { myMemberships: memberships } },
});

describe('AppShell', () => {
  beforeEach(() => localStorage.clear());

  it('sends a visitor without a session to the certificate sign-in page', async () => {
    const wrapper = await mountWithApp(AppShell, {
      fetch: graphqlServer(answers(null)).fetch,
      path: '/studies',
    });
    expect(wrapper.get('[data-testid="page-title"]').text()).toBe('Sign in with your certificate');
    expect(wrapper.get('[data-testid="main-nav"]').text()).toBe('');
    expect(wrapper.get('[data-testid="server-version"]').text()).toBe('0.1.0');
  });

  it('shows the product, the navigation and the server version when signed in', async () => {
    const wrapper = await mountWithApp(AppShell, {
      fetch: graphqlServer(
        answers(testMe(), [
          {
            id: 'm',
            groupPath: '/medgrid/a',
            status: 'ACTIVE',
            requestedRole: 'DOCTOR',
            expiresAt: null,
            reason: null,
            suspensionKind: null,
          },
        ]),
      ).fetch,
    });
    expect(wrapper.get('[data-testid="product-name"]').text()).toBe('MedGrid');
    expect(wrapper.get('[data-testid="main-nav"]').text()).toContain('Studies');
    expect(wrapper.get('[data-testid="page-title"]').text()).toBe('Welcome, doctor');
    expect(wrapper.get('[data-testid="server-version"]').text()).toBe('0.1.0');
    expect(wrapper.get('[data-testid="my-membership"]').text()).toContain('active');
    expect(wrapper.get('[data-testid="home-upload"]').attributes('href')).toBe('/upload');
    expect(wrapper.get('[data-testid="home-shared"]').text()).toContain('Shared with me');
  });

  it('tells a suspended member that access is refused', async () => {
    const wrapper = await mountWithApp(AppShell, {
      fetch: graphqlServer(
        answers(testMe({ access: 'INACTIVE' }), [
          {
            id: 'm',
            groupPath: '/medgrid/a',
            status: 'SUSPENDED',
            requestedRole: 'DOCTOR',
            expiresAt: null,
            reason: 'audit',
            suspensionKind: 'manual',
          },
        ]),
      ).fetch,
    });
    expect(wrapper.get('[data-testid="access-refused"]').text()).toContain('suspended');
    expect(wrapper.find('[data-testid="home-upload"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="membership-request-form"]').exists()).toBe(false);
  });

  it('lets a newcomer request membership', async () => {
    const server = graphqlServer({
      ...answers(testMe({ access: 'INACTIVE', roles: [] })),
      RequestMembership: {
        data: {
          requestMembership: {
            id: 'm',
            groupPath: '/medgrid/a',
            status: 'REQUESTED',
            requestedRole: 'DOCTOR',
            expiresAt: null,
            reason: null,
            suspensionKind: null,
          },
        },
      },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch });
    await wrapper.get('[data-testid="membership-group"]').setValue('/medgrid/a');
    await wrapper.get('[data-testid="membership-request-form"]').trigger('submit');
    await flushPromises();
    expect(server.requests.find((r) => r.body.operationName === 'RequestMembership')?.body.variables).toEqual(
      { groupPath: '/medgrid/a' },
    );
    expect(wrapper.get('[data-testid="membership-message"]').text()).toBe('Your request has been sent.');
  });

  it('asks an approved member to accept the AUP, which activates the membership', async () => {
    let accepted = false;
    const membership = () => ({
      id: 'm',
      groupPath: '/medgrid/a',
      status: accepted ? 'ACTIVE' : 'APPROVED',
      requestedRole: 'DOCTOR',
      expiresAt: null,
      reason: null,
      suspensionKind: null,
    });
    const server = graphqlServer({
      Version: { data: { version: '0.1.0' } },
      Me: () => ({
        data: { me: testMe(accepted ? {} : { access: 'AUP_REQUIRED', pendingAupVersion: 3 }) },
      }),
      MyMemberships: () => ({ data: { myMemberships: [membership()] } }),
      CurrentAup: { data: { currentAup: { version: 3, text: 'Rules.', acceptBy: '2030-01-01T00:00:00Z' } } },
      AcceptAup: () => {
        accepted = true;
        return { data: { acceptAup: true } };
      },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: server.fetch });
    expect(wrapper.get('[data-testid="access-aup"]').text()).toContain('version 3');
    expect(wrapper.get('[data-testid="aup-text"]').text()).toBe('Rules.');
    await wrapper.get('[data-testid="aup-accept"]').trigger('click');
    await flushPromises();
    expect(server.requests.find((r) => r.body.operationName === 'AcceptAup')?.body.variables).toEqual({
      version: 3,
    });
    expect(wrapper.find('[data-testid="aup"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="my-membership"]').attributes('data-status')).toBe('ACTIVE');
  });

  it('switches to Ukrainian, remembers the choice and sets <html lang>', async () => {
    const wrapper = await mountWithApp(AppShell, { fetch: graphqlServer(answers(testMe())).fetch });
    expect(document.documentElement.lang).toBe('en');
    await wrapper.get('[data-testid="lang-uk"]').trigger('click');
    await flushPromises();
    expect(wrapper.get('[data-testid="page-title"]').text()).toBe('Вітаємо, лікарю');
    expect(wrapper.get('[data-testid="main-nav"]').text()).toContain('Дослідження');
    expect(wrapper.get('[data-testid="lang-uk"]').attributes('aria-pressed')).toBe('true');
    expect(document.documentElement.lang).toBe('uk');
    expect(localStorage.getItem('medgrid.locale')).toBe('uk');

    await wrapper.get('[data-testid="lang-en"]').trigger('click');
    await flushPromises();
    expect(wrapper.get('[data-testid="page-title"]').text()).toBe('Welcome, doctor');
    expect(document.documentElement.lang).toBe('en');
  });

  it('renders a not-found page for unknown paths', async () => {
    const wrapper = await mountWithApp(AppShell, {
      fetch: graphqlServer(answers(testMe())).fetch,
      path: '/no/such/page',
    });
    expect(wrapper.get('[data-testid="page-title"]').text()).toBe('Page not found');
  });
});
