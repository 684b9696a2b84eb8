import { errorText } from '@medgrid/web-common';
import type { AnyVariables, CombinedError, TypedDocumentNode } from '@urql/core';
import { useClientHandle } from '@urql/vue';
import { ref } from 'vue';

/** Imperative GraphQL calls for the admin pages: always from the network, errors as text in `error`. */
export function useApi() {
  const { client } = useClientHandle();
  const error = ref('');
  const busy = ref(false);

  async function call<D, V extends AnyVariables>(
    kind: 'query' | 'mutation',
    doc: TypedDocumentNode<D, V>,
    variables: V,
  ): Promise<D | undefined> {
    busy.value = true;
    error.value = '';
    try {
      const result =
        kind === 'query'
          ? await client.query(doc, variables, { requestPolicy: 'network-only' }).toPromise()
          : await client.mutation(doc, variables).toPromise();
      if (result.error) {
        error.value = errorText(result.error as CombinedError);
        return undefined;
      }
      return result.data;
    } finally {
      busy.value = false;
    }
  }

  return {
    error,
    busy,
    query: <D, V extends AnyVariables>(doc: TypedDocumentNode<D, V>, variables: V) =>
      call('query', doc, variables),
    mutate: <D, V extends AnyVariables>(doc: TypedDocumentNode<D, V>, variables: V) =>
      call('mutation', doc, variables),
  };
}

export function formatDate(value: string | null | undefined, locale: string): string {
  if (!value) return '—';
  return new Date(value).toLocaleString(locale === 'uk' ? 'uk-UA' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
  });
}
