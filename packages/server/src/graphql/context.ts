import type { EntityManager } from '@mikro-orm/postgresql';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthService } from '../auth/auth.service.js';
import type { AuthState } from '../auth/principal.js';
import type { IdentityRuntime } from '../identity/identity.runtime.js';
import type { StorageAdminRuntime } from '../storage-admin/storage-admin.runtime.js';
import type { StudiesRuntime } from '../studies/studies.runtime.js';

/** Per-request GraphQL context. `em` is a fork made for this request only. */
export interface GraphqlContext {
  em: EntityManager;
  request: FastifyRequest;
  reply: FastifyReply;
  /** Who is calling (resolved once per request from the client certificate or session cookie). */
  auth: AuthState;
  identity: IdentityRuntime;
  authService: AuthService;
  studies: StudiesRuntime;
  /** The storage worker's queue, for the storage admin API. */
  storageAdmin: StorageAdminRuntime;
}
