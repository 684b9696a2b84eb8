import { createMemoryHistory, createRouter } from 'vue-router';
import { commonEn } from '../i18n/common.en.js';
import { commonUk } from '../i18n/common.uk.js';
import { createAppI18n } from '../i18n/i18n.js';
import { mountWithPlugins } from './index.js';

/** Mounts a shared component with only the shared messages and a two-route router (home, sign-in). */
export async function mountCommon(
  component: Parameters<typeof mountWithPlugins>[0],
  options: { fetch: typeof globalThis.fetch; path?: string; locale?: 'en' | 'uk' },
) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', name: 'home', component: { template: '<p data-testid="home">home</p>' } },
      {
        path: '/sign-in',
        name: 'sign-in',
        component: () => import('../sign-in/SignInPage.vue'),
        meta: { public: true },
      },
    ],
  });
  return mountWithPlugins(component, {
    fetch: options.fetch,
    router,
    i18n: createAppI18n({ en: commonEn, uk: commonUk }, options.locale ?? 'en'),
    ...(options.path ? { path: options.path } : {}),
  });
}
