import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { VersionResolver } from '../system/version.resolver.js';

/** Every resolver class of the API. */
export const resolvers = [VersionResolver] as const;

export async function buildGraphqlSchema(): Promise<GraphQLSchema> {
  return buildSchema({ resolvers, validate: false, emitSchemaFile: false });
}
