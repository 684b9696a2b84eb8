import { flushPromises } from '@vue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import { graphqlServer, mountWithApp, testMe } from '../test-support/mount-with-app.js';
import AppShell from './AppShell.vue';

const admin = testMe({ name: 'Ada Admin', roles: [{ groupPath: '/medgrid', role: 'VO_ADMIN' }] });
const answers = (me: unknown) => ({ Version: { data: { version: '0.1.0' } }, Me: { data: { me } } });

describe('AppShell', () => {
  beforeEach(() => localStorage.clear());

  it('sends a visitor without a session to the certificate sign-in page', async () => {
    const wrapper = await mountWithApp(AppShell, {
      fetch: graphqlServer(answers(null)).fetch,
      path: '/certificates',
    });
    expect(wrapper.get('[data-testid="page-title"]').text()).toBe('Sign in with your certificate');
    expect(wrapper.find('[data-testid="sign-in-file"]').exists()).toBe(true);
    expect(wrapper.get('[data-testid="main-nav"]').text()).toBe('');
    expect(wrapper.get('[data-testid="server-version"]').text()).toBe('0.1.0');
  });

  it('shows the product, the navigation and the server version to an administrator', async () => {
    const wrapper = await mountWithApp(AppShell, { fetch: graphqlServer(answers(admin)).fetch });
    expect(wrapper.get('[data-testid="product-name"]').text()).toBe('MedGrid');
    expect(wrapper.get('[data-testid="app-section"]').text()).toBe('Administration');
    expect(wrapper.get('[data-testid="main-nav"]').text()).toContain('Certificates');
    expect(wrapper.get('[data-testid="page-title"]').text()).toBe('Administration');
    expect(wrapper.get('[data-testid="session-name"]').text()).toContain('Ada Admin');
    expect(wrapper.get('[data-testid="server-version"]').text()).toBe('0.1.0');
  });

  it('refuses a doctor without an administrative role', async () => {
    const wrapper = await mountWithApp(AppShell, {
      fetch: graphqlServer(answers(testMe())).fetch,
      path: '/certificates',
    });
    expect(wrapper.get('[data-testid="page-title"]').text()).toBe('Administrators only');
    expect(wrapper.get('[data-testid="main-nav"]').text()).toBe('');
  });

  it('refuses an administrator whose membership is suspended', async () => {
    const wrapper = await mountWithApp(AppShell, {
      fetch: graphqlServer(answers({ ...admin, access: 'INACTIVE' })).fetch,
    });
    expect(wrapper.get('[data-testid="refused-reason"]').text()).toContain('not active');
  });

  it('switches to Ukrainian, remembers the choice and sets <html lang>', async () => {
    const wrapper = await mountWithApp(AppShell, { fetch: graphqlServer(answers(admin)).fetch });
    expect(document.documentElement.lang).toBe('en');
    await wrapper.get('[data-testid="lang-uk"]').trigger('click');
    await flushPromises();
    expect(wrapper.get('[data-testid="page-title"]').text()).toBe('Адміністрування');
    expect(wrapper.get('[data-testid="main-nav"]').text()).toContain('Сертифікати');
    expect(wrapper.get('[data-testid="lang-uk"]').attributes('aria-pressed')).toBe('true');
    expect(document.documentElement.lang).toBe('uk');
    expect(localStorage.getItem('medgrid.locale')).toBe('uk');

    await wrapper.get('[data-testid="lang-en"]').trigger('click');
    await flushPromises();
    expect(wrapper.get('[data-testid="page-title"]').text()).toBe('Administration');
    expect(document.documentElement.lang).toBe('en');
  });

  it('renders a not-found page for unknown paths', async () => {
    const wrapper = await mountWithApp(AppShell, {
      fetch: graphqlServer(answers(admin)).fetch,
      path: '/no/such/page',
    });
    expect(wrapper.get('[data-testid="page-title"]').text()).toBe('Page not found');
  });
});
