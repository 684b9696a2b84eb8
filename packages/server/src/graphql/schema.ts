import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, getMetadataStorage } from 'type-graphql';
import { AuditResolver } from '../audit/audit.resolver.js';
import { AuthResolver } from '../auth/auth.resolver.js';
import { authChecker, isRule } from '../auth/policy.js';
import { CertificateResolver } from '../identity/certificates/certificate.resolver.js';
import { StorageAdminResolver } from '../storage-admin/storage-admin.resolver.js';
import { SeriesResolver, StudyProgressResolver, StudyResolver } from '../studies/study.resolver.js';
import { pubSub } from '../studies/study-events.js';
import { VersionResolver } from '../system/version.resolver.js';
import { UserResolver } from '../users/user.resolver.js';
import { VoResolver } from '../vo/vo.resolver.js';

/** Every resolver class of the API. */
export const resolvers = [
  VersionResolver,
  AuthResolver,
  UserResolver,
  CertificateResolver,
  VoResolver,
  AuditResolver,
  StudyResolver,
  SeriesResolver,
  StudyProgressResolver,
  StorageAdminResolver,
] as const;

type ResolverClass = Function;

/**
 * Root fields (queries, mutations, subscriptions) and field resolvers of these classes that declare no
 * `@Authorized(...)` rule known to the policy. The schema is refused while this list is not empty.
 */
export function fieldsWithoutRule(classes: readonly ResolverClass[]): string[] {
  const md = getMetadataStorage();
  const targets = new Set<ResolverClass>(classes);
  const handlers = [...md.queries, ...md.mutations, ...md.subscriptions, ...md.fieldResolvers].filter((h) =>
    targets.has(h.target),
  );
  const ok = (roles: unknown[] | undefined) => !!roles && roles.length > 0 && roles.every(isRule);
  return handlers
    .filter((h) => {
      const field = md.authorizedFields.find((a) => a.target === h.target && a.fieldName === h.methodName);
      if (field) return !ok(field.roles);
      const cls = md.authorizedResolver.find((a) => a.target === h.target);
      return !ok(cls?.roles);
    })
    .map((h) => `${h.target.name}.${h.methodName}`);
}

export async function buildGraphqlSchema(
  extraResolvers: readonly ResolverClass[] = [],
): Promise<GraphQLSchema> {
  const all = [...resolvers, ...extraResolvers] as unknown as [ResolverClass, ...ResolverClass[]];
  const missing = fieldsWithoutRule(all);
  if (missing.length) {
    throw new Error(`GraphQL fields without an @Authorized rule (deny by default): ${missing.join(', ')}`);
  }
  return buildSchema({
    resolvers: all as never,
    validate: false,
    emitSchemaFile: false,
    authChecker,
    authMode: 'error',
    pubSub,
  });
}
