import {
  Arg,
  Authorized,
  Ctx,
  Field,
  GraphQLISODateTime,
  ID,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
} from 'type-graphql';
import { forbidden } from '../auth/errors.js';
import { Connection, toConnection } from '../graphql/connection.js';
import type { GraphqlContext } from '../graphql/context.js';
import { MembershipStatusEnum, VoRoleEnum } from '../graphql/enums.js';
import { servicesFor } from '../graphql/services.js';
import { CertificateType } from '../identity/certificates/certificate.resolver.js';
import { pageSize } from '../identity/ids.util.js';
import { UserService } from '../users/user.service.js';
import {
  type AupVersion,
  type Membership,
  type MembershipStatus,
  VoGroup,
  type VoRole,
} from './vo.entities.js';
import { canManageGroup, effectiveStatus } from './vo.service.js';
import { gridMapfile, xrootdAuthdb } from './vo-export.service.js';

@ObjectType('VoGroup')
class VoGroupType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  path!: string;

  @Field(() => String, { nullable: true })
  parentId!: string | null;

  @Field(() => String, { nullable: true })
  description!: string | null;

  static from(g: VoGroup): VoGroupType {
    return Object.assign(new VoGroupType(), {
      id: g.id,
      path: g.path,
      parentId: g.parentId ?? null,
      description: g.description ?? null,
    });
  }
}

@ObjectType('Membership')
class MembershipType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  userId!: string;

  @Field(() => String, { description: 'Name of the member.' })
  userName!: string;

  @Field(() => String)
  userFacility!: string;

  @Field(() => String)
  groupPath!: string;

  @Field(() => MembershipStatusEnum, {
    description: 'Effective status (an active membership past term + grace shows expired).',
  })
  status!: string;

  @Field(() => VoRoleEnum)
  requestedRole!: string;

  @Field(() => GraphQLISODateTime)
  requestedAt!: Date;

  @Field(() => GraphQLISODateTime, { nullable: true })
  decidedAt!: Date | null;

  @Field(() => String, { nullable: true })
  reason!: string | null;

  @Field(() => GraphQLISODateTime, { nullable: true })
  activatedAt!: Date | null;

  @Field(() => GraphQLISODateTime, { nullable: true })
  expiresAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'manual or aup' })
  suspensionKind!: string | null;

  @Field(() => [VoRoleEnum], { description: "Roles the member holds in this membership's group." })
  roles!: string[];
}

@ObjectType()
class MembershipConnection extends Connection(MembershipType, 'Membership') {}

@ObjectType('Aup')
class AupType {
  @Field(() => Int)
  version!: number;

  @Field(() => String)
  text!: string;

  @Field(() => GraphQLISODateTime)
  publishedAt!: Date;

  @Field(() => GraphQLISODateTime)
  acceptBy!: Date;

  static from(a: AupVersion): AupType {
    return Object.assign(new AupType(), {
      version: a.version,
      text: a.text,
      publishedAt: a.publishedAt,
      acceptBy: a.acceptBy,
    });
  }
}

@ObjectType()
class RoleAssignmentType {
  @Field(() => String)
  userId!: string;

  @Field(() => String)
  groupPath!: string;

  @Field(() => VoRoleEnum)
  role!: string;
}

@ObjectType()
class ExpiringSoon {
  @Field(() => [CertificateType])
  certificates!: CertificateType[];

  @Field(() => [MembershipType])
  memberships!: MembershipType[];
}

@ObjectType()
class LifecycleResult {
  @Field(() => Int)
  expired!: number;

  @Field(() => Int)
  suspended!: number;
}

async function toMemberships(ctx: GraphqlContext, ms: Membership[]): Promise<MembershipType[]> {
  const ids = [...new Set(ms.map((m) => m.groupId))];
  const groups = ids.length ? await ctx.em.find(VoGroup, { id: { $in: ids } }) : [];
  const paths = new Map(groups.map((g) => [g.id, g.path]));
  const users = await new UserService(ctx.em).byIds(ms.map((m) => m.userId));
  const now = new Date();
  const grace = ctx.identity.settings.membershipGraceDays;
  const roles = await servicesFor(ctx).vo.rolesInMembershipGroups(ms);
  return ms.map((m) =>
    Object.assign(new MembershipType(), {
      id: m.id,
      userId: m.userId,
      userName: users.get(m.userId)?.name ?? '?',
      userFacility: users.get(m.userId)?.facility ?? '?',
      groupPath: paths.get(m.groupId) ?? '?',
      status: effectiveStatus(m, now, grace),
      requestedRole: m.requestedRole,
      requestedAt: m.requestedAt,
      decidedAt: m.decidedAt ?? null,
      reason: m.reason ?? null,
      activatedAt: m.activatedAt ?? null,
      expiresAt: m.expiresAt ?? null,
      suspensionKind: m.suspensionKind ?? null,
      roles: roles.get(`${m.userId} group ${m.groupId}`) ?? [],
    }),
  );
}

const one = async (ctx: GraphqlContext, m: Membership) => (await toMemberships(ctx, [m]))[0]!;

@Resolver()
export class VoResolver {
  // ---- groups ----
  @Authorized('member')
  @Query(() => [VoGroupType], { description: 'Every VO group, by path.' })
  async voGroups(@Ctx() ctx: GraphqlContext): Promise<VoGroupType[]> {
    return (await servicesFor(ctx).vo.listGroups()).map(VoGroupType.from);
  }

  @Authorized('vo-admin')
  @Mutation(() => VoGroupType)
  async createVoGroup(
    @Ctx() ctx: GraphqlContext,
    @Arg('path', () => String) path: string,
    @Arg('description', () => String, { nullable: true }) description?: string,
  ): Promise<VoGroupType> {
    const s = servicesFor(ctx);
    return VoGroupType.from(await s.vo.createGroup(s.actor, path, description ?? null));
  }

  @Authorized('vo-admin')
  @Mutation(() => VoGroupType, { description: 'Renames the last path segment; subgroups follow.' })
  async renameVoGroup(
    @Ctx() ctx: GraphqlContext,
    @Arg('groupId', () => String) groupId: string,
    @Arg('name', () => String) name: string,
  ): Promise<VoGroupType> {
    const s = servicesFor(ctx);
    return VoGroupType.from(await s.vo.renameGroup(s.actor, groupId, name));
  }

  @Authorized('vo-admin')
  @Mutation(() => VoGroupType, { description: 'Moves the group (and its subgroups) under another parent.' })
  async moveVoGroup(
    @Ctx() ctx: GraphqlContext,
    @Arg('groupId', () => String) groupId: string,
    @Arg('newParentPath', () => String) newParentPath: string,
  ): Promise<VoGroupType> {
    const s = servicesFor(ctx);
    const g = await s.vo.moveGroup(s.actor, groupId, newParentPath);
    s.changed();
    return VoGroupType.from(g);
  }

  // ---- memberships ----
  @Authorized('vo-admin', 'group-manager')
  @Query(() => MembershipConnection, {
    description:
      'Memberships in a group and its subgroups, newest first. Group managers must name a group they manage.',
  })
  async memberships(
    @Ctx() ctx: GraphqlContext,
    @Arg('groupPath', () => String, { nullable: true }) groupPath?: string,
    @Arg('status', () => MembershipStatusEnum, { nullable: true }) status?: MembershipStatus,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('userId', () => String, { nullable: true }) userId?: string,
  ): Promise<MembershipConnection> {
    const s = servicesFor(ctx);
    const group = groupPath ? await s.vo.groupByPath(groupPath) : null;
    const isAdmin = s.scope().some((r) => r.role === 'vo-admin');
    if (!isAdmin && (!group || !canManageGroup(s.scope(), group.path)))
      throw forbidden('name a group you manage');
    const page = await s.vo.listMemberships(
      {
        ...(group ? { groupIds: (await s.vo.subtree(group.path)).map((g) => g.id) } : {}),
        ...(status ? { status } : {}),
        ...(userId ? { userId } : {}),
      },
      pageSize(first),
      after,
    );
    const nodes = await toMemberships(ctx, page.items);
    const byId = new Map(nodes.map((n) => [n.id, n]));
    return toConnection(page, (m) => byId.get(m.id)!);
  }

  @Authorized('authenticated')
  @Query(() => [MembershipType], { description: "The caller's own memberships." })
  async myMemberships(@Ctx() ctx: GraphqlContext): Promise<MembershipType[]> {
    const s = servicesFor(ctx);
    return toMemberships(ctx, await s.vo.membershipsOf(s.principal().userId));
  }

  @Authorized('applicant')
  @Mutation(() => MembershipType, { description: 'Asks to join a VO group (with a role, default doctor).' })
  async requestMembership(
    @Ctx() ctx: GraphqlContext,
    @Arg('groupPath', () => String) groupPath: string,
    @Arg('role', () => VoRoleEnum, { nullable: true }) role?: VoRole,
  ): Promise<MembershipType> {
    const s = servicesFor(ctx);
    const m = await s.vo.requestMembership(s.actor, s.principal().userId, groupPath, role ?? 'doctor');
    s.changed();
    return one(ctx, m);
  }

  @Authorized('vo-admin', 'group-manager')
  @Mutation(() => MembershipType, { description: 'Approves a request in a group the caller manages.' })
  async approveMembership(
    @Ctx() ctx: GraphqlContext,
    @Arg('membershipId', () => String) membershipId: string,
  ): Promise<MembershipType> {
    const s = servicesFor(ctx);
    const m = await s.vo.decide(s.actor, s.scope(), membershipId, true);
    s.changed();
    return one(ctx, m);
  }

  @Authorized('vo-admin', 'group-manager')
  @Mutation(() => MembershipType)
  async rejectMembership(
    @Ctx() ctx: GraphqlContext,
    @Arg('membershipId', () => String) membershipId: string,
    @Arg('reason', () => String) reason: string,
  ): Promise<MembershipType> {
    const s = servicesFor(ctx);
    return one(ctx, await s.vo.decide(s.actor, s.scope(), membershipId, false, reason));
  }

  @Authorized('vo-admin', 'group-manager')
  @Mutation(() => MembershipType)
  async suspendMembership(
    @Ctx() ctx: GraphqlContext,
    @Arg('membershipId', () => String) membershipId: string,
    @Arg('reason', () => String) reason: string,
  ): Promise<MembershipType> {
    const s = servicesFor(ctx);
    const m = await s.vo.suspend(s.actor, s.scope(), membershipId, reason);
    s.changed();
    return one(ctx, m);
  }

  @Authorized('vo-admin', 'group-manager')
  @Mutation(() => MembershipType)
  async restoreMembership(
    @Ctx() ctx: GraphqlContext,
    @Arg('membershipId', () => String) membershipId: string,
  ): Promise<MembershipType> {
    const s = servicesFor(ctx);
    const m = await s.vo.restore(s.actor, s.scope(), membershipId);
    s.changed();
    return one(ctx, m);
  }

  @Authorized('vo-admin', 'group-manager')
  @Mutation(() => MembershipType, { description: 'Starts a new membership term from now.' })
  async renewMembership(
    @Ctx() ctx: GraphqlContext,
    @Arg('membershipId', () => String) membershipId: string,
  ): Promise<MembershipType> {
    const s = servicesFor(ctx);
    const m = await s.vo.renewMembership(s.actor, s.scope(), membershipId);
    s.changed();
    return one(ctx, m);
  }

  // ---- roles ----
  @Authorized('vo-admin', 'group-manager')
  @Mutation(() => RoleAssignmentType, {
    description:
      'Grants a role in a group. Group managers may grant doctor in their groups; other roles need vo-admin.',
  })
  async assignRole(
    @Ctx() ctx: GraphqlContext,
    @Arg('userId', () => String) userId: string,
    @Arg('groupPath', () => String) groupPath: string,
    @Arg('role', () => VoRoleEnum) role: VoRole,
  ): Promise<RoleAssignmentType> {
    const s = servicesFor(ctx);
    await s.vo.assignRole(s.actor, s.scope(), userId, groupPath, role);
    s.changed();
    return Object.assign(new RoleAssignmentType(), {
      userId,
      groupPath: (await s.vo.groupByPath(groupPath)).path,
      role,
    });
  }

  @Authorized('vo-admin', 'group-manager')
  @Mutation(() => Boolean)
  async removeRole(
    @Ctx() ctx: GraphqlContext,
    @Arg('userId', () => String) userId: string,
    @Arg('groupPath', () => String) groupPath: string,
    @Arg('role', () => VoRoleEnum) role: VoRole,
  ): Promise<boolean> {
    const s = servicesFor(ctx);
    const done = await s.vo.removeRole(s.actor, s.scope(), userId, groupPath, role);
    s.changed();
    return done;
  }

  // ---- AUP ----
  @Authorized('authenticated')
  @Query(() => AupType, { nullable: true, description: 'The current acceptable-use policy.' })
  async currentAup(@Ctx() ctx: GraphqlContext): Promise<AupType | null> {
    const a = await servicesFor(ctx).vo.currentAup();
    return a ? AupType.from(a) : null;
  }

  @Authorized('vo-admin')
  @Mutation(() => AupType, {
    description: 'Publishes a new AUP version; members who do not accept it by acceptBy are suspended.',
  })
  async publishAup(
    @Ctx() ctx: GraphqlContext,
    @Arg('text', () => String) text: string,
    @Arg('acceptBy', () => GraphQLISODateTime) acceptBy: Date,
  ): Promise<AupType> {
    const s = servicesFor(ctx);
    const a = await s.vo.publishAup(s.actor, text, acceptBy);
    s.changed();
    return AupType.from(a);
  }

  @Authorized('aup')
  @Mutation(() => Boolean, {
    description: 'Accepts the current AUP (the only operation allowed before accepting it).',
  })
  async acceptAup(@Ctx() ctx: GraphqlContext, @Arg('version', () => Int) version: number): Promise<boolean> {
    const s = servicesFor(ctx);
    await s.vo.acceptAup(s.actor, s.principal().userId, version);
    s.changed();
    return true;
  }

  // ---- lifecycle and exports ----
  @Authorized('vo-admin', 'ca-operator')
  @Query(() => ExpiringSoon, {
    description: 'Certificates and memberships ending within `days` (default 30).',
  })
  async expiringSoon(
    @Ctx() ctx: GraphqlContext,
    @Arg('days', () => Int, { nullable: true }) days?: number,
  ): Promise<ExpiringSoon> {
    const s = servicesFor(ctx);
    const d = Math.min(Math.max(days ?? 30, 1), 365);
    const certs = await s.certificates.list({ expiringWithinDays: d }, 100);
    return Object.assign(new ExpiringSoon(), {
      certificates: certs.items.map((c) => CertificateType.from(c)),
      memberships: await toMemberships(ctx, await s.vo.expiringMemberships(d)),
    });
  }

  @Authorized('vo-admin')
  @Mutation(() => LifecycleResult, {
    description: 'Applies expiry and AUP deadlines now (the server also does this every minute).',
  })
  async enforceMembershipLifecycle(@Ctx() ctx: GraphqlContext): Promise<LifecycleResult> {
    const s = servicesFor(ctx);
    const r = await s.vo.enforce(s.actor);
    s.changed();
    return Object.assign(new LifecycleResult(), r);
  }

  @Authorized('vo-admin')
  @Query(() => String, { description: 'grid-mapfile of the members who may act now.' })
  async gridMapfile(@Ctx() ctx: GraphqlContext): Promise<string> {
    return gridMapfile(ctx.em, ctx.identity.voOptions());
  }

  @Authorized('vo-admin')
  @Query(() => String, { description: 'XRootD authorization database matching gridMapfile.' })
  async xrootdAuthdb(@Ctx() ctx: GraphqlContext): Promise<string> {
    return xrootdAuthdb(ctx.em, ctx.identity.voOptions());
  }
}
