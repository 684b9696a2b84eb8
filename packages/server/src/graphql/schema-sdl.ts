import { lexicographicSortSchema, printSchema } from 'graphql';
import { buildGraphqlSchema } from './schema.js';

/**
 * The API's schema as SDL, sorted so the committed copy (packages/server/schema.graphql) only changes when the
 * API does. The web apps validate their GraphQL documents against that copy.
 */
export async function graphqlSchemaSdl(): Promise<string> {
  return `${printSchema(lexicographicSortSchema(await buildGraphqlSchema()))}\n`;
}
