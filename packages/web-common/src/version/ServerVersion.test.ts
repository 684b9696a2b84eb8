import { flushPromises } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import { graphqlFetch } from '../test-support/index.js';
import { mountCommon } from '../test-support/mount.js';
import ServerVersion from './ServerVersion.vue';

describe('ServerVersion', () => {
  it('asks the server for its version and shows it', async () => {
    const server = graphqlFetch({ data: { version: '7.8.9-test' } });
    const { wrapper } = await mountCommon(ServerVersion, { fetch: server.fetch });
    expect(wrapper.get('[data-testid="server-version"]').text()).toBe('7.8.9-test');
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.method).toBe('POST');
    expect(server.requests[0]?.body).toMatchObject({
      operationName: 'Version',
      query: expect.stringMatching(/query Version\s*{\s*version\s*}/),
    });
  });

  it('shows a loading state while the server has not answered', async () => {
    const pending = (() => new Promise<Response>(() => {})) as typeof fetch;
    const { wrapper } = await mountCommon(ServerVersion, { fetch: pending });
    expect(wrapper.get('[data-testid="server-version-loading"]').text()).toBe('Connecting to the server…');
    expect(wrapper.find('[data-testid="server-version"]').exists()).toBe(false);
  });

  it('shows an error state when the server is down', async () => {
    const down = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    const { wrapper } = await mountCommon(ServerVersion, { fetch: down });
    await flushPromises();
    expect(wrapper.get('[data-testid="server-version-error"]').text()).toBe('The server cannot be reached.');
    expect(wrapper.find('[data-testid="server-version"]').exists()).toBe(false);
  });

  it('shows an error state when the server answers with GraphQL errors', async () => {
    const server = graphqlFetch({ errors: [{ message: 'boom' }], data: null });
    const { wrapper } = await mountCommon(ServerVersion, { fetch: server.fetch });
    expect(wrapper.find('[data-testid="server-version-error"]').exists()).toBe(true);
  });
});
