import { flushPromises } from '@vue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import AppShell from '../app/AppShell.vue';
import { graphqlServer, mountWithApp, testMe } from '../test-support/mount-with-app.js';

const TOKEN = 'b'.repeat(43);

describe('/s/<token>', () => {
  beforeEach(() => localStorage.clear());

  it('a signed-out visitor is sent to sign in and brought back to the link', async () => {
    const wrapper = await mountWithApp(AppShell, {
      fetch: graphqlServer({ Version: { data: { version: '0.1.0' } }, Me: { data: { me: null } } }).fetch,
      path: `/s/${TOKEN}`,
    });
    expect(wrapper.get('[data-testid="page-title"]').text()).toBe('Sign in with your certificate');
    expect(wrapper.vm.$route.query.redirect).toBe(`/s/${TOKEN}`);
  });

  it('says why a link cannot be used', async () => {
    const s = graphqlServer({
      Version: { data: { version: '0.1.0' } },
      Me: { data: { me: testMe() } },
      RedeemShareLink: {
        data: null,
        errors: [{ message: 'this link cannot be used: revoked', extensions: { code: 'FORBIDDEN' } }],
      },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: s.fetch, path: `/s/${TOKEN}` });
    await flushPromises();
    expect(s.requests.find((r) => r.body.operationName === 'RedeemShareLink')?.body.variables).toEqual({
      token: TOKEN,
    });
    expect(wrapper.get('[data-testid="redeem-error"]').text()).toMatch(/revoked/);
  });

  it('redeems and goes on to the study page', async () => {
    const id = '0190f000-0000-7000-8000-000000000002';
    const s = graphqlServer({
      Version: { data: { version: '0.1.0' } },
      Me: { data: { me: testMe() } },
      RedeemShareLink: { data: { redeemShareLink: { id, studyUid: '2.25.2' } } },
      Study: { data: null, errors: [{ message: 'no access to this study' }] },
    });
    const wrapper = await mountWithApp(AppShell, { fetch: s.fetch, path: `/s/${TOKEN}` });
    await flushPromises();
    await flushPromises();
    expect(wrapper.vm.$route.fullPath).toBe(`/studies/${id}`);
    expect(s.requests.some((r) => r.body.operationName === 'Study')).toBe(true);
  });
});
