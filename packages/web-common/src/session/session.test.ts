import { flushPromises } from '@vue/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h } from 'vue';
import { RouterView } from 'vue-router';
import { createGraphqlClient } from '../graphql/client.js';
import { commonEn } from '../i18n/common.en.js';
import { commonUk } from '../i18n/common.uk.js';
import { messageKeys } from '../i18n/i18n.js';
import { graphqlServer, testMe } from '../test-support/index.js';
import { mountCommon } from '../test-support/mount.js';
import { createSession, installSessionGuard } from './session.js';

const Shell = defineComponent({ render: () => h(RouterView) });

describe('session', () => {
  beforeEach(() => localStorage.clear());
  afterEach(() => vi.useRealTimers());

  it('shared messages have the same keys in both languages', () => {
    expect(messageKeys(commonUk).sort()).toEqual(messageKeys(commonEn).sort());
  });

  it('notices when the server no longer knows an open session', async () => {
    let me: unknown = testMe();
    const server = graphqlServer({ Me: () => ({ data: { me } }) });
    const session = createSession(
      createGraphqlClient({ url: 'http://127.0.0.1/graphql', fetch: server.fetch, persistedQueries: false }),
    );
    expect(session.status.value).toBe('unknown');
    await session.refresh();
    expect(session.status.value).toBe('signed-in');
    me = null;
    await session.refresh();
    expect(session.status.value).toBe('ended');
    expect(session.me.value).toBeNull();
  });

  it('a network failure does not end the session', async () => {
    let down = false;
    const ok = graphqlServer({ Me: { data: { me: testMe() } } }).fetch;
    const fetch = (async (url: RequestInfo | URL, init?: RequestInit) => {
      if (down) throw new TypeError('Failed to fetch');
      return ok(url, init);
    }) as typeof globalThis.fetch;
    const session = createSession(
      createGraphqlClient({ url: 'http://127.0.0.1/graphql', fetch, persistedQueries: false }),
    );
    await session.refresh();
    down = true;
    await session.refresh();
    expect(session.status.value).toBe('signed-in');
  });

  it('the guard sends visitors to sign-in, and a session that ends while open says so', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let me: unknown = null;
    const server = graphqlServer({ Me: () => ({ data: { me } }) });
    const { wrapper, router, session } = await mountCommon(Shell, { fetch: server.fetch, path: '/' });
    // mountCommon has no guard; install it and navigate again.
    installSessionGuard(router, session);
    await router.push('/?x=1');
    await flushPromises();
    expect(router.currentRoute.value.name).toBe('sign-in');
    expect(router.currentRoute.value.query.redirect).toBe('/?x=1');

    me = testMe();
    await session.refresh();
    await router.push('/');
    await flushPromises();
    expect(wrapper.find('[data-testid="home"]').exists()).toBe(true);

    session.startWatching(1000);
    me = null;
    vi.advanceTimersByTime(1000);
    await flushPromises();
    await flushPromises();
    expect(router.currentRoute.value.name).toBe('sign-in');
    expect(router.currentRoute.value.query.reason).toBe('ended');
    expect(wrapper.get('[data-testid="sign-in-notice"]').text()).toContain('Your session has ended');
    session.stopWatching();
  });
});
