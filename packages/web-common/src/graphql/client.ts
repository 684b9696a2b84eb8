import { Client, cacheExchange, fetchExchange } from '@urql/core';

/** The app's GraphQL client; same origin, so the server (or Vite's proxy) answers `/graphql`. */
export function createGraphqlClient(options: { url?: string; fetch?: typeof fetch } = {}): Client {
  return new Client({
    url: options.url ?? '/graphql',
    exchanges: [cacheExchange, fetchExchange],
    // The contract is POST + JSON; urql would otherwise send short queries as GET, which Apollo's CSRF guard rejects.
    preferGetMethod: false,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
