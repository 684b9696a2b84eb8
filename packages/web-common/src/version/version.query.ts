import { gql } from '@urql/core';

// Hand-typed until the schema is published for gql.tada; keep in step with the server's `version` field.
export interface VersionQueryData {
  version: string;
}

export const VersionQuery = gql<VersionQueryData, Record<string, never>>`
  query Version {
    version
  }
`;
