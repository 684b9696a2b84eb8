import urql from '@urql/vue';
import { flushPromises, mount } from '@vue/test-utils';
import type { Component, Plugin } from 'vue';
import type { Router } from 'vue-router';
import { createGraphqlClient } from '../graphql/client.js';
import { messageKeys } from '../i18n/i18n.js';
import { createSession, type Session } from '../session/session.js';
import type { Me } from '../session/session.query.js';

export interface RecordedRequest {
  method: string | undefined;
  body: { operationName?: string; query?: string; variables?: Record<string, unknown> };
}

type Answer = unknown | ((variables: Record<string, unknown>) => unknown);

/**
 * A `fetch` that answers GraphQL requests, recording what it saw. `body` is either one answer for every request,
 * or a map from operation name to answer (`{ data }` / `{ errors }` / a function of the variables); operations
 * not in the map get `{ data: null, errors: [...] }`.
 */
export function graphqlFetch(body: unknown, byOperation = false) {
  const requests: RecordedRequest[] = [];
  const fetch = async (_url: RequestInfo | URL, init?: RequestInit) => {
    const parsed = JSON.parse(String(init?.body)) as RecordedRequest['body'];
    requests.push({ method: init?.method, body: parsed });
    let answer: Answer = body;
    if (byOperation) {
      const table = body as Record<string, Answer>;
      answer = table[parsed.operationName ?? ''] ?? {
        data: null,
        errors: [{ message: `no test answer for ${parsed.operationName}` }],
      };
      if (typeof answer === 'function')
        answer = (answer as (v: Record<string, unknown>) => unknown)(parsed.variables ?? {});
    }
    return new Response(JSON.stringify(answer), { headers: { 'content-type': 'application/json' } });
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}

/** `graphqlFetch` keyed by operation name. */
export function graphqlServer(answers: Record<string, Answer>) {
  return graphqlFetch(answers, true);
}

export function testMe(overrides: Partial<Me> = {}): Me {
  return {
    userId: 'u-1',
    name: 'Test Doctor',
    facility: 'test-clinic',
    kind: 'person',
    subject: 'CN=Test Doctor',
    certificateSerial: '0a',
    via: 'session',
    access: 'ACTIVE',
    roles: [{ groupPath: '/medgrid/test-clinic', role: 'DOCTOR' }],
    pendingAupVersion: null,
    ...overrides,
  };
}

/**
 * Mounts `component` with a real router, i18n, urql client and session; only `fetch` is swapped.
 * `setup` gets the session and router before the first navigation (install guards there).
 */
export async function mountWithPlugins(
  component: Component,
  options: {
    fetch: typeof globalThis.fetch;
    router: Router;
    i18n: Plugin;
    path?: string;
    setup?: (router: Router, session: Session) => void;
  },
) {
  const client = createGraphqlClient({
    url: 'http://127.0.0.1/graphql',
    fetch: options.fetch,
    persistedQueries: false,
  });
  const session = createSession(client);
  options.setup?.(options.router, session);
  await options.router.push(options.path ?? '/');
  const wrapper = mount(component, {
    global: { plugins: [options.router, options.i18n, [urql, client], session] },
    attachTo: document.body,
  });
  await options.router.isReady();
  await flushPromises();
  return { wrapper, session, client, router: options.router };
}
export type { Locale } from '../i18n/i18n.js';

/**
 * Differences between two message catalogues: keys only one side has, and texts left empty.
 * Each app asserts its Ukrainian and English catalogues give `[]`.
 */
export function localeProblems(uk: object, en: object): string[] {
  const ukKeys = new Set(messageKeys(uk));
  const enKeys = new Set(messageKeys(en));
  const at = (m: object, key: string) =>
    key.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown>)[p], m);
  return [
    ...[...enKeys].filter((k) => !ukKeys.has(k)).map((k) => `missing in uk: ${k}`),
    ...[...ukKeys].filter((k) => !enKeys.has(k)).map((k) => `missing in en: ${k}`),
    ...[...ukKeys].filter((k) => String(at(uk, k)).trim() === '').map((k) => `empty in uk: ${k}`),
  ];
}
export { documentCount, documentProblems } from './documents.js';
