import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../audit/audit.service.js';
import type { User, UserKind } from '../users/user.entity.js';
import { UserService } from '../users/user.service.js';
import type { VoRole } from '../vo/vo.entities.js';
import { ROOT_GROUP, VoService } from '../vo/vo.service.js';
import { CertificateService } from './certificates/certificate.service.js';
import type { IssuedCertificate } from './certificates/issued-certificate.entity.js';
import type { IdentityRuntime } from './identity.runtime.js';

export interface EnrolInput {
  name: string;
  facility: string;
  kind?: UserKind;
  /** Group to join (created with its ancestors when missing). Default `/medgrid`. */
  groupPath?: string;
  /** Roles in that group; the first is the requested role. Default `doctor`. */
  roles?: VoRole[];
  /** How far the membership gets: `active` (approved; active unless an AUP waits), `requested`, or `none`. */
  membership?: 'active' | 'requested' | 'none';
  validityDays?: number;
}

export interface Enrolled {
  user: User;
  certificate: IssuedCertificate;
  pkcs12: Buffer;
  password: string;
}

/**
 * Creates an account, its membership and roles, and a certificate with a server-generated key (PKCS#12).
 * Used by `medgrid admin bootstrap`, the development accounts and tests; administrators use the API.
 */
export async function enrol(
  em: EntityManager,
  rt: IdentityRuntime,
  actor: Actor,
  input: EnrolInput,
): Promise<Enrolled> {
  const users = new UserService(em);
  const vo = new VoService(em, rt.voOptions());
  const user = await users.create(actor, {
    name: input.name,
    facility: input.facility,
    kind: input.kind ?? 'person',
  });
  const group = await vo.ensureGroupPath(actor, input.groupPath ?? ROOT_GROUP);
  const roles = input.roles?.length ? input.roles : (['doctor'] as VoRole[]);
  const how = input.membership ?? 'active';
  if (how !== 'none') {
    const m = await vo.requestMembership(actor, user.id, group.path, roles[0]);
    if (how === 'active') {
      await vo.decide(actor, null, m.id, true);
      for (const r of roles.slice(1)) await vo.assignRole(actor, null, user.id, group.path, r);
    }
  }
  const issued = await new CertificateService(em, rt).issueWithGeneratedKey(
    actor,
    user.id,
    input.validityDays ?? null,
  );
  return { user, ...issued };
}
