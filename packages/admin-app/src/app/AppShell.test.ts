import { flushPromises } from '@vue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import { graphqlFetch, mountWithApp } from '../test-support/mount-with-app.js';
import AppShell from './AppShell.vue';

describe('AppShell', () => {
  beforeEach(() => localStorage.clear());

  it('shows the product, the navigation and the server version', async () => {
    const wrapper = await mountWithApp(AppShell, {
      fetch: graphqlFetch({ data: { version: '0.1.0' } }).fetch,
    });
    expect(wrapper.get('[data-testid="product-name"]').text()).toBe('MedGrid');
    expect(wrapper.get('[data-testid="app-section"]').text()).toBe('Administration');
    expect(wrapper.get('[data-testid="main-nav"]').text()).toContain('Certificates');
    expect(wrapper.get('[data-testid="page-title"]').text()).toBe('Administration');
    expect(wrapper.get('[data-testid="server-version"]').text()).toBe('0.1.0');
  });

  it('switches to Ukrainian, remembers the choice and sets <html lang>', async () => {
    const wrapper = await mountWithApp(AppShell, {
      fetch: graphqlFetch({ data: { version: '0.1.0' } }).fetch,
    });
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
      fetch: graphqlFetch({ data: { version: '0.1.0' } }).fetch,
      path: '/no/such/page',
    });
    expect(wrapper.get('[data-testid="page-title"]').text()).toBe('Page not found');
  });
});
