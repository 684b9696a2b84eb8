import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { account, type Harness, signIn, startHarness } from '../auth/test-harness.util.js';
import { MAX_DEPTH } from './limits.js';

describe('GraphQL: depth and complexity limits, automatic persisted queries', () => {
  let h: Harness;
  let cookie: string;
  before(async () => {
    h = await startHarness();
    cookie = await signIn(
      h,
      await account(h, { name: 'Limits Doc', facility: 'Kyiv1', groupPath: '/medgrid/kyiv1' }),
    );
  });
  after(() => h.close());
  const post = async (payload: Record<string, unknown>) =>
    (await h.app.inject({ method: 'POST', url: '/graphql', headers: { cookie }, payload })).json() as {
      data?: unknown;
      errors?: { message: string; extensions?: { code?: string } }[];
    };

  test('a query deeper than the limit is refused before it runs', async () => {
    let sel = 'name';
    for (let i = 0; i < MAX_DEPTH; i++) sel = `ofType { ${sel} }`;
    const r = await post({ query: `{ __schema { types { fields { type { ${sel} } } } } }` });
    assert.equal(r.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
    assert.match(r.errors![0]!.message, /too deep/);
    const ok = await post({
      query: '{ studies(first: 100) { edges { node { id series { instances { id } } } } } }',
    });
    assert.equal(ok.errors, undefined);
  });

  test('a query whose cost (fields × page sizes) is over the limit is refused', async () => {
    const many = Array.from(
      { length: 300 },
      (_, i) => `a${i}: studies(first: 100) { edges { node { id } } }`,
    ).join(' ');
    const r = await post({ query: `{ ${many} }` });
    assert.equal(r.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
    assert.match(r.errors![0]!.message, /too complex/);
  });

  test('automatic persisted queries: hash first, then the query once, then the hash alone', async () => {
    const query = '{ studies(first: 5) { edges { node { id } } } }';
    const ext = {
      persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') },
    };
    const miss = await post({ extensions: ext });
    assert.equal(miss.errors?.[0]?.extensions?.code, 'PERSISTED_QUERY_NOT_FOUND');
    assert.equal((await post({ query, extensions: ext })).errors, undefined);
    const hit = await post({ extensions: ext });
    assert.equal(hit.errors, undefined);
    assert.deepEqual(hit.data, { studies: { edges: [] } });
  });
});
