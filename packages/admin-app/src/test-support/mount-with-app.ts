import urql from '@urql/vue';
import { flushPromises, mount } from '@vue/test-utils';
import type { Component } from 'vue';
import { createMemoryHistory } from 'vue-router';
import { createGraphqlClient } from '../graphql/client.js';
import { createAppI18n, type Locale } from '../i18n/i18n.js';
import { createAppRouter } from '../router/router.js';

/** A `fetch` that answers every GraphQL request with `body`, recording the requests it saw. */
export function graphqlFetch(body: unknown) {
  const requests: { method: string | undefined; body: unknown }[] = [];
  const fetch = async (_url: RequestInfo | URL, init?: RequestInit) => {
    requests.push({ method: init?.method, body: JSON.parse(String(init?.body)) });
    return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}

/** Mounts `component` with the app's real router, i18n and urql client; only `fetch` is swapped. */
export async function mountWithApp(
  component: Component,
  options: { fetch: typeof globalThis.fetch; locale?: Locale; path?: string },
) {
  const router = createAppRouter(createMemoryHistory());
  await router.push(options.path ?? '/');
  const i18n = createAppI18n(options.locale ?? 'en');
  const client = createGraphqlClient({ url: 'http://127.0.0.1/graphql', fetch: options.fetch });
  const wrapper = mount(component, {
    global: { plugins: [router, i18n, [urql, client]] },
    attachTo: document.body,
  });
  await router.isReady();
  await flushPromises();
  return wrapper;
}
