import { defineEntity, p } from '@mikro-orm/core';

export const MEMBERSHIP_STATUSES = [
  'requested',
  'approved',
  'rejected',
  'active',
  'suspended',
  'expired',
] as const;
export type MembershipStatus = (typeof MEMBERSHIP_STATUSES)[number];

export const VO_ROLES = ['doctor', 'group-manager', 'vo-admin', 'ca-operator', 'gateway'] as const;
export type VoRole = (typeof VO_ROLES)[number];

/** A VO group; `path` is `/medgrid`, `/medgrid/<facility>` or `/medgrid/<facility>/<dept>` (and deeper). */
export const VoGroupSchema = defineEntity({
  name: 'VoGroup',
  tableName: 'vo_group',
  properties: {
    id: p.uuid().primary(),
    path: p.string().length(512).unique(),
    parentId: p.uuid().nullable().index(),
    description: p.string().length(512).nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
});
export class VoGroup extends VoGroupSchema.class {}
VoGroupSchema.setClass(VoGroup);

/**
 * A user's membership of a VO group: requested → approved/rejected → active → suspended/restored/expired.
 * `approved` means approved but the current AUP is not accepted yet; accepting it makes the membership active.
 */
export const MembershipSchema = defineEntity({
  name: 'Membership',
  tableName: 'vo_membership',
  properties: {
    id: p.uuid().primary(),
    userId: p.uuid().index(),
    groupId: p.uuid().index(),
    status: p.enum(MEMBERSHIP_STATUSES).index(),
    requestedAt: p.datetime().defaultRaw('now()'),
    requestedRole: p.enum(VO_ROLES).default('doctor'),
    decidedAt: p.datetime().nullable(),
    decidedBy: p.uuid().nullable(),
    reason: p.string().length(512).nullable(),
    activatedAt: p.datetime().nullable(),
    /** End of the term; the member keeps access during the grace period after it. */
    expiresAt: p.datetime().nullable().index(),
    suspendedAt: p.datetime().nullable(),
    /** `manual` or `aup`. */
    suspensionKind: p.string().length(16).nullable(),
  },
  uniques: [{ properties: ['userId', 'groupId'] }],
});
export class Membership extends MembershipSchema.class {}
MembershipSchema.setClass(Membership);

/** A role of a user inside a group; it applies to the group and its subgroups. */
export const RoleAssignmentSchema = defineEntity({
  name: 'RoleAssignment',
  tableName: 'vo_role_assignment',
  properties: {
    id: p.uuid().primary(),
    userId: p.uuid().index(),
    groupId: p.uuid().index(),
    role: p.enum(VO_ROLES),
    grantedAt: p.datetime().defaultRaw('now()'),
    grantedBy: p.uuid().nullable(),
  },
  uniques: [{ properties: ['userId', 'groupId', 'role'] }],
});
export class RoleAssignment extends RoleAssignmentSchema.class {}
RoleAssignmentSchema.setClass(RoleAssignment);

/** A published acceptable-use policy; members must accept the newest before its deadline or are suspended. */
export const AupVersionSchema = defineEntity({
  name: 'AupVersion',
  tableName: 'aup_version',
  properties: {
    id: p.uuid().primary(),
    version: p.integer().unique(),
    text: p.text(),
    publishedAt: p.datetime().defaultRaw('now()'),
    acceptBy: p.datetime(),
    publishedBy: p.uuid().nullable(),
  },
});
export class AupVersion extends AupVersionSchema.class {}
AupVersionSchema.setClass(AupVersion);

export const AupAcceptanceSchema = defineEntity({
  name: 'AupAcceptance',
  tableName: 'aup_acceptance',
  properties: {
    id: p.uuid().primary(),
    userId: p.uuid().index(),
    version: p.integer(),
    acceptedAt: p.datetime().defaultRaw('now()'),
    ip: p.string().length(64).nullable(),
  },
  uniques: [{ properties: ['userId', 'version'] }],
});
export class AupAcceptance extends AupAcceptanceSchema.class {}
AupAcceptanceSchema.setClass(AupAcceptance);
