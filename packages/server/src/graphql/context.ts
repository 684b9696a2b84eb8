import type { EntityManager } from '@mikro-orm/postgresql';
import type { FastifyRequest } from 'fastify';

/** Per-request GraphQL context. `em` is a fork made for this request only. */
export interface GraphqlContext {
  em: EntityManager;
  request: FastifyRequest;
}
