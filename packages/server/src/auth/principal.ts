import type { EntityManager } from '@mikro-orm/postgresql';
import type { IssuedCertificate } from '../identity/certificates/issued-certificate.entity.js';
import type { UserKind } from '../users/user.entity.js';
import { User } from '../users/user.entity.js';
import { effectiveStatus, type RoleGrant, type VoOptions, VoService } from '../vo/vo.service.js';

/**
 * - `active`: valid certificate, an active membership, the current AUP accepted: may act within their roles.
 * - `aup-required`: a membership waits for (or was suspended for) the current AUP: may only accept it.
 * - `inactive`: no usable membership (requested, rejected, suspended, expired or none).
 */
export type AccessState = 'active' | 'aup-required' | 'inactive';

export interface Principal {
  userId: string;
  name: string;
  facility: string;
  kind: UserKind;
  /** Certificate subject DN. */
  subject: string;
  serialHex: string;
  via: 'mtls' | 'session';
  sessionId?: string;
  /** The principal is not valid after this (certificate end or session end). */
  validUntil: Date;
  access: AccessState;
  /** Effective roles; empty unless access is `active`. */
  roles: RoleGrant[];
  /** The AUP version the user must accept, if any. */
  pendingAupVersion: number | null;
}

export interface AuthState {
  principal: Principal | null;
  /** Why a presented credential was refused (expired, revoked, unknown-ca, session-ended...). */
  failure?: string;
}

/** Computes access state and roles of a user holding a verified certificate. */
export async function evaluatePrincipal(
  em: EntityManager,
  vo: VoOptions,
  cert: IssuedCertificate,
  via: Principal['via'],
  validUntil: Date,
  sessionId?: string,
): Promise<Principal | null> {
  const user = await em.findOne(User, { id: cert.userId });
  if (!user) return null;
  const svc = new VoService(em, vo);
  const now = (vo.clock ?? (() => new Date()))();
  const memberships = await svc.membershipsOf(user.id);
  const statuses = memberships.map((m) => ({ m, st: effectiveStatus(m, now, vo.graceDays) }));
  const anyActive = statuses.some((s) => s.st === 'active');
  const aupBlocked = statuses.some(
    (s) => s.st === 'approved' || (s.st === 'suspended' && s.m.suspensionKind === 'aup'),
  );
  const aup = await svc.currentAup();
  const accepted = aup ? await svc.hasAccepted(user.id, aup.version) : true;
  let access: AccessState;
  if (!accepted && (anyActive || aupBlocked)) access = 'aup-required';
  else if (anyActive) access = 'active';
  else if (aupBlocked) access = 'aup-required';
  else access = 'inactive';
  const principal: Principal = {
    userId: user.id,
    name: user.name,
    facility: user.facility,
    kind: user.kind,
    subject: cert.subject,
    serialHex: cert.serialHex,
    via,
    validUntil,
    access,
    roles: access === 'active' ? await svc.rolesOf(user.id) : [],
    pendingAupVersion: !accepted && aup ? aup.version : null,
  };
  if (sessionId) principal.sessionId = sessionId;
  return principal;
}
