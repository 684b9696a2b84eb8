import { AuditService } from '../audit/audit.service.js';
import { actorOf } from '../auth/auth.service.js';
import { DomainError } from '../auth/errors.js';
import type { Principal } from '../auth/principal.js';
import { CertificateService } from '../identity/certificates/certificate.service.js';
import { UserService } from '../users/user.service.js';
import type { RoleGrant } from '../vo/vo.service.js';
import { VoService } from '../vo/vo.service.js';
import type { GraphqlContext } from './context.js';

/** The services a resolver may call, bound to the request's EntityManager and caller. */
export function servicesFor(ctx: GraphqlContext) {
  const actor = actorOf(ctx.auth, ctx.request.ip ?? null);
  return {
    actor,
    users: new UserService(ctx.em),
    vo: new VoService(ctx.em, ctx.identity.voOptions()),
    certificates: new CertificateService(ctx.em, ctx.identity),
    audit: new AuditService(ctx.em),
    /** The caller; resolvers run only after the auth checker, so this is set for non-public fields. */
    principal(): Principal {
      if (!ctx.auth.principal) throw new DomainError('UNAUTHENTICATED', 'sign in first');
      return ctx.auth.principal;
    },
    /** The caller's roles for group-scoped checks. */
    scope(): RoleGrant[] {
      return ctx.auth.principal?.roles ?? [];
    },
    /** After a change to memberships or roles: re-evaluate principals in this process at once. */
    changed(): void {
      ctx.identity.authCache.clear();
    },
  };
}
