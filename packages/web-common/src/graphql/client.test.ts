import { gql } from '@urql/core';
import { describe, expect, it } from 'vitest';
import { createGraphqlClient } from './client.js';

const Version = gql<{ version: string }>`
  query Version {
    version
  }
`;

interface Sent {
  query?: string;
  extensions?: { persistedQuery?: { version: number; sha256Hash: string } };
}

// Answers as Apollo Server does for automatic persisted queries (the real pairing runs in e2e/apps.e2e.test.ts).
function apqServer() {
  const known = new Set<string>();
  const sent: Sent[] = [];
  const fetch = (async (_url: RequestInfo | URL, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body)) as Sent;
    sent.push(body);
    const hash = body.extensions?.persistedQuery?.sha256Hash;
    if (hash && body.query) known.add(hash);
    const answer =
      hash && !body.query && !known.has(hash)
        ? {
            errors: [
              { message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } },
            ],
          }
        : { data: { version: '1.2.3' } };
    return new Response(JSON.stringify(answer), { headers: { 'content-type': 'application/json' } });
  }) as typeof globalThis.fetch;
  return { fetch, sent };
}

describe('GraphQL client', () => {
  it('sends only the SHA-256 of a document the server already knows, and the text the first time', async () => {
    const server = apqServer();
    const first = createGraphqlClient({ url: 'http://127.0.0.1/graphql', fetch: server.fetch });
    expect((await first.query(Version, {}).toPromise()).data?.version).toBe('1.2.3');
    expect(server.sent.map((s) => Boolean(s.query))).toEqual([false, true]);
    const hash = server.sent[0]?.extensions?.persistedQuery?.sha256Hash;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);

    // A second page load: a fresh client, the server remembers the hash.
    const second = createGraphqlClient({ url: 'http://127.0.0.1/graphql', fetch: server.fetch });
    expect((await second.query(Version, {}).toPromise()).data?.version).toBe('1.2.3');
    expect(server.sent.slice(2)).toEqual([
      expect.objectContaining({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }),
    ]);
    expect(server.sent[2]?.query).toBeUndefined();
  });

  it('sends whole documents when persisted queries are turned off', async () => {
    const server = apqServer();
    const client = createGraphqlClient({
      url: 'http://127.0.0.1/graphql',
      fetch: server.fetch,
      persistedQueries: false,
    });
    await client.query(Version, {}).toPromise();
    expect(server.sent).toHaveLength(1);
    expect(server.sent[0]?.query).toContain('query Version');
    expect(server.sent[0]?.extensions?.persistedQuery).toBeUndefined();
  });
});
