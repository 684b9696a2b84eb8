import type { CombinedError } from '@urql/core';

/** The first GraphQL error's code (`extensions.code`), e.g. UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT. */
export function errorCode(error: CombinedError | undefined | null): string | undefined {
  const code = error?.graphQLErrors[0]?.extensions?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A human-readable message: the server's first GraphQL error, or the network failure. */
export function errorText(error: CombinedError | undefined | null): string {
  if (!error) return '';
  return error.graphQLErrors[0]?.message ?? error.networkError?.message ?? error.message;
}
