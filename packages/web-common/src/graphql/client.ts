import { Client, cacheExchange, fetchExchange } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';

/** The app's GraphQL client; same origin, so the server (or Vite's proxy) answers `/graphql`. */
export function createGraphqlClient(
  options: { url?: string; fetch?: typeof fetch; persistedQueries?: boolean } = {},
): Client {
  return new Client({
    url: options.url ?? '/graphql',
    exchanges: [
      cacheExchange,
      // Automatic persisted queries: the SHA-256 of a document first, the whole text only when the server
      // has not seen it yet. Kept on POST, which Apollo's CSRF guard requires.
      ...(options.persistedQueries === false
        ? []
        : [persistedExchange({ preferGetForPersistedQueries: false })]),
      fetchExchange,
    ],
    // The contract is POST + JSON; urql would otherwise send short queries as GET, which Apollo's CSRF guard rejects.
    preferGetMethod: false,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
