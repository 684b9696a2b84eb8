import { type Locale, mountWithPlugins } from '@medgrid/web-common/test-support';
import type { Component } from 'vue';
import { createMemoryHistory } from 'vue-router';
import { createDoctorI18n } from '../i18n/i18n.js';
import { createAppRouter, installDoctorGuards } from '../router/router.js';

export { graphqlFetch, graphqlServer, testMe } from '@medgrid/web-common/test-support';

/** Mounts `component` with the app's real router (and guards), i18n, urql client and session; only `fetch` is swapped. */
export async function mountWithApp(
  component: Component,
  options: { fetch: typeof globalThis.fetch; locale?: Locale; path?: string },
) {
  const { wrapper } = await mountWithPlugins(component, {
    fetch: options.fetch,
    router: createAppRouter(createMemoryHistory()),
    i18n: createDoctorI18n(options.locale ?? 'en'),
    ...(options.path ? { path: options.path } : {}),
    setup: installDoctorGuards,
  });
  return wrapper;
}
