import type { EntityManager } from '@mikro-orm/postgresql';
import { type Actor, AuditService } from '../audit/audit.service.js';
import { badInput, conflict, forbidden, notFound } from '../auth/errors.js';
import { isUuid, type Page, uuidv7 } from '../identity/ids.util.js';
import { User } from '../users/user.entity.js';
import {
  AupAcceptance,
  AupVersion,
  Membership,
  type MembershipStatus,
  RoleAssignment,
  VO_ROLES,
  VoGroup,
  type VoRole,
} from './vo.entities.js';

export const VO_NAME = 'medgrid';
export const ROOT_GROUP = `/${VO_NAME}`;
const SEGMENT_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DAY_MS = 24 * 3600 * 1000;

export interface VoOptions {
  /** Membership term (default 365 days). */
  termDays: number;
  /** Access continues this long after the term ends (default 30 days). */
  graceDays: number;
  clock?: () => Date;
}

export interface RoleGrant {
  groupPath: string;
  role: VoRole;
}

/** `/medgrid/<facility>/<dept>`: segments of letters, digits, `.`, `_`, `-`; always under `/medgrid`. */
export function normaliseGroupPath(path: string): string {
  const p = path.trim().replace(/\/+$/, '');
  const parts = p.split('/');
  if (parts[0] !== '' || parts[1] !== VO_NAME) throw badInput(`group path must start with ${ROOT_GROUP}`);
  for (const s of parts.slice(2)) {
    if (!SEGMENT_RE.test(s)) throw badInput(`invalid group name ${JSON.stringify(s)}`);
  }
  if (parts.length > 8) throw badInput('groups nest at most 6 levels below the VO');
  return p;
}

export function parentPath(path: string): string | null {
  const i = path.lastIndexOf('/');
  return i <= 0 ? null : path.slice(0, i);
}

/** True when `path` is `scope` or below it. */
export function withinGroup(path: string, scope: string): boolean {
  return path === scope || path.startsWith(`${scope}/`);
}

/** Roles that only a VO administrator may grant or approve. */
export const PRIVILEGED_ROLES: readonly VoRole[] = ['vo-admin', 'ca-operator', 'group-manager', 'gateway'];
/** Roles that hold for the whole VO and are therefore granted only in the root group. */
export const VO_WIDE_ROLES: readonly VoRole[] = ['vo-admin', 'ca-operator'];

export function isVoAdminFor(roles: readonly RoleGrant[], path: string): boolean {
  return roles.some((r) => r.role === 'vo-admin' && withinGroup(path, r.groupPath));
}

/** May a holder of these roles manage (approve, suspend, assign roles in) the group at `path`? */
export function canManageGroup(roles: readonly RoleGrant[], path: string): boolean {
  return roles.some(
    (r) => (r.role === 'vo-admin' || r.role === 'group-manager') && withinGroup(path, r.groupPath),
  );
}

/** Status as of `now`: an active membership past its term plus grace is expired even before the sweep runs. */
export function effectiveStatus(m: Membership, now: Date, graceDays: number): MembershipStatus {
  if (
    (m.status === 'active' || m.status === 'suspended') &&
    m.expiresAt &&
    now.getTime() > m.expiresAt.getTime() + graceDays * DAY_MS
  ) {
    return 'expired';
  }
  return m.status;
}

/** VO groups, memberships, roles and the AUP. Every change writes an audit event in the same flush. */
export class VoService {
  private readonly audit: AuditService;
  private readonly clock: () => Date;

  constructor(
    private readonly em: EntityManager,
    private readonly opts: VoOptions,
  ) {
    this.audit = new AuditService(em);
    this.clock = opts.clock ?? (() => new Date());
  }

  get graceDays(): number {
    return this.opts.graceDays;
  }

  // ---- groups ----

  async ensureRootGroup(): Promise<VoGroup> {
    const g = await this.em.findOne(VoGroup, { path: ROOT_GROUP });
    if (g) return g;
    await this.em
      .getConnection()
      .execute(
        `insert into vo_group (id, path, parent_id, description, created_at) values (?, ?, null, ?, now()) on conflict (path) do nothing`,
        [uuidv7(), ROOT_GROUP, 'The MedGrid virtual organisation'],
      );
    return this.em.findOneOrFail(VoGroup, { path: ROOT_GROUP });
  }

  async groupByPath(path: string): Promise<VoGroup> {
    const g = await this.em.findOne(VoGroup, { path: normaliseGroupPath(path) });
    if (!g) throw notFound(`group ${path}`);
    return g;
  }

  async groupById(id: string): Promise<VoGroup> {
    const g = isUuid(id) ? await this.em.findOne(VoGroup, { id }) : null;
    if (!g) throw notFound('group');
    return g;
  }

  /** The group at `path` and every group below it. */
  async subtree(path: string): Promise<VoGroup[]> {
    const p = normaliseGroupPath(path);
    const like = `${p.replace(/[%_\\]/g, (c) => `\\${c}`)}/%`;
    return this.em.find(
      VoGroup,
      { $or: [{ path: p }, { path: { $like: like } }] },
      { orderBy: { path: 'asc' } },
    );
  }

  async listGroups(): Promise<VoGroup[]> {
    return this.em.find(VoGroup, {}, { orderBy: { path: 'asc' } });
  }

  async createGroup(actor: Actor, path: string, description?: string | null): Promise<VoGroup> {
    const p = normaliseGroupPath(path);
    if (await this.em.findOne(VoGroup, { path: p })) throw conflict(`group ${p} exists`);
    const parent = parentPath(p);
    if (!parent) throw badInput('the VO root group exists already');
    const parentGroup = await this.em.findOne(VoGroup, { path: parent });
    if (!parentGroup) throw notFound(`parent group ${parent}`);
    const g = this.em.create(VoGroup, {
      id: uuidv7(),
      path: p,
      parentId: parentGroup.id,
      description: description ?? null,
      createdAt: this.clock(),
    });
    this.audit.record(actor, 'vo.group.create', p, { groupId: g.id });
    await this.em.flush();
    return g;
  }

  /** Creates the group and any missing ancestors (bootstrap, development accounts). */
  async ensureGroupPath(actor: Actor, path: string): Promise<VoGroup> {
    const p = normaliseGroupPath(path);
    let current = await this.ensureRootGroup();
    const parts = p.split('/').slice(2);
    let acc = ROOT_GROUP;
    for (const s of parts) {
      acc = `${acc}/${s}`;
      const found = await this.em.findOne(VoGroup, { path: acc });
      current = found ?? (await this.createGroup(actor, acc));
    }
    return current;
  }

  async renameGroup(actor: Actor, groupId: string, newName: string): Promise<VoGroup> {
    const g = await this.groupById(groupId);
    const parent = parentPath(g.path);
    if (!parent) throw badInput('the VO root group cannot be renamed');
    return this.repath(actor, g, normaliseGroupPath(`${parent}/${newName}`), 'vo.group.rename');
  }

  async moveGroup(actor: Actor, groupId: string, newParentPath: string): Promise<VoGroup> {
    const g = await this.groupById(groupId);
    if (g.path === ROOT_GROUP) throw badInput('the VO root group cannot be moved');
    const np = normaliseGroupPath(newParentPath);
    if (withinGroup(np, g.path)) throw badInput('a group cannot move below itself');
    const leaf = g.path.slice(g.path.lastIndexOf('/') + 1);
    return this.repath(actor, g, normaliseGroupPath(`${np}/${leaf}`), 'vo.group.move');
  }

  private async repath(actor: Actor, g: VoGroup, to: string, action: string): Promise<VoGroup> {
    if (to === g.path) return g;
    if (await this.em.findOne(VoGroup, { path: to })) throw conflict(`group ${to} exists`);
    const parent = await this.em.findOne(VoGroup, { path: parentPath(to)! });
    if (!parent) throw notFound(`parent group ${parentPath(to)}`);
    const from = g.path;
    const subtree = await this.em.find(VoGroup, {
      path: { $like: `${from.replace(/[%_\\]/g, (c) => `\\${c}`)}/%` },
    });
    g.path = to;
    g.parentId = parent.id;
    for (const d of subtree) d.path = to + d.path.slice(from.length);
    this.audit.record(actor, action, to, { groupId: g.id, from, to });
    await this.em.flush();
    return g;
  }

  // ---- memberships ----

  async membershipById(id: string): Promise<Membership> {
    const m = isUuid(id) ? await this.em.findOne(Membership, { id }) : null;
    if (!m) throw notFound('membership');
    return m;
  }

  async membershipsOf(userId: string): Promise<Membership[]> {
    return this.em.find(Membership, { userId }, { orderBy: { id: 'asc' } });
  }

  async requestMembership(
    actor: Actor,
    userId: string,
    groupPath: string,
    role: VoRole = 'doctor',
  ): Promise<Membership> {
    if (!VO_ROLES.includes(role)) throw badInput(`unknown role ${role}`);
    const group = await this.groupByPath(groupPath);
    if (VO_WIDE_ROLES.includes(role) && group.path !== ROOT_GROUP) {
      throw badInput(`${role} is a VO-wide role: request it in ${ROOT_GROUP}`);
    }
    const existing = await this.em.findOne(Membership, { userId, groupId: group.id });
    const now = this.clock();
    if (existing) {
      const st = effectiveStatus(existing, now, this.opts.graceDays);
      if (st !== 'rejected' && st !== 'expired') throw conflict(`membership of ${group.path} is ${st}`);
      // A rejected or expired member may ask again.
      existing.status = 'requested';
      existing.requestedAt = now;
      existing.requestedRole = role;
      existing.decidedAt = null;
      existing.decidedBy = null;
      existing.reason = null;
      existing.suspendedAt = null;
      existing.suspensionKind = null;
      this.audit.record(actor, 'vo.membership.request', group.path, {
        membershipId: existing.id,
        userId,
        role,
      });
      await this.em.flush();
      return existing;
    }
    const m = this.em.create(Membership, {
      id: uuidv7(),
      userId,
      groupId: group.id,
      status: 'requested',
      requestedAt: now,
      requestedRole: role,
    });
    this.audit.record(actor, 'vo.membership.request', group.path, { membershipId: m.id, userId, role });
    await this.em.flush();
    return m;
  }

  /** Approve or reject a request. `scope` are the approver's roles (null: unrestricted, e.g. the CLI). */
  async decide(
    actor: Actor,
    scope: readonly RoleGrant[] | null,
    membershipId: string,
    approve: boolean,
    reason?: string | null,
  ): Promise<Membership> {
    const m = await this.membershipById(membershipId);
    const group = await this.groupById(m.groupId);
    if (scope && !canManageGroup(scope, group.path)) throw forbidden(`you do not manage ${group.path}`);
    if (m.status !== 'requested') throw conflict(`membership is ${m.status}, not requested`);
    if (scope) {
      if (m.userId === actor.userId) throw forbidden('nobody decides on their own membership request');
      if (approve && PRIVILEGED_ROLES.includes(m.requestedRole) && !isVoAdminFor(scope, group.path)) {
        throw forbidden(`only a VO administrator may approve a request for ${m.requestedRole}`);
      }
    }
    const now = this.clock();
    m.decidedAt = now;
    m.decidedBy = actor.userId;
    m.reason = reason?.slice(0, 512) ?? null;
    if (!approve) {
      m.status = 'rejected';
      this.audit.record(actor, 'vo.membership.reject', group.path, {
        membershipId: m.id,
        userId: m.userId,
        reason: m.reason,
      });
      await this.em.flush();
      return m;
    }
    m.status = 'approved';
    await this.grant(actor, m.userId, group, m.requestedRole);
    this.audit.record(actor, 'vo.membership.approve', group.path, {
      membershipId: m.id,
      userId: m.userId,
      role: m.requestedRole,
    });
    const aup = await this.currentAup();
    if (!aup || (await this.hasAccepted(m.userId, aup.version))) this.activate(actor, m, group.path, now);
    await this.em.flush();
    return m;
  }

  private activate(actor: Actor, m: Membership, groupPath: string, now: Date): void {
    m.status = 'active';
    m.activatedAt = now;
    m.expiresAt = new Date(now.getTime() + this.opts.termDays * DAY_MS);
    m.suspendedAt = null;
    m.suspensionKind = null;
    this.audit.record(actor, 'vo.membership.activate', groupPath, {
      membershipId: m.id,
      userId: m.userId,
      expiresAt: m.expiresAt.toISOString(),
    });
  }

  async suspend(
    actor: Actor,
    scope: readonly RoleGrant[] | null,
    membershipId: string,
    reason: string,
  ): Promise<Membership> {
    const m = await this.membershipById(membershipId);
    const group = await this.groupById(m.groupId);
    if (scope && !canManageGroup(scope, group.path)) throw forbidden(`you do not manage ${group.path}`);
    const st = effectiveStatus(m, this.clock(), this.opts.graceDays);
    if (st !== 'active' && st !== 'approved') throw conflict(`membership is ${st}`);
    m.status = 'suspended';
    m.suspendedAt = this.clock();
    m.suspensionKind = 'manual';
    m.reason = reason.slice(0, 512);
    this.audit.record(actor, 'vo.membership.suspend', group.path, {
      membershipId: m.id,
      userId: m.userId,
      reason: m.reason,
    });
    await this.em.flush();
    return m;
  }

  async restore(actor: Actor, scope: readonly RoleGrant[] | null, membershipId: string): Promise<Membership> {
    const m = await this.membershipById(membershipId);
    const group = await this.groupById(m.groupId);
    if (scope && !canManageGroup(scope, group.path)) throw forbidden(`you do not manage ${group.path}`);
    const st = effectiveStatus(m, this.clock(), this.opts.graceDays);
    if (st !== 'suspended') throw conflict(`membership is ${st}, not suspended`);
    m.status = 'active';
    m.suspendedAt = null;
    m.suspensionKind = null;
    if (!m.activatedAt) m.activatedAt = this.clock();
    if (!m.expiresAt) m.expiresAt = new Date(this.clock().getTime() + this.opts.termDays * DAY_MS);
    this.audit.record(actor, 'vo.membership.restore', group.path, { membershipId: m.id, userId: m.userId });
    await this.em.flush();
    return m;
  }

  /** Starts a new term from now (an active, suspended or expired membership). */
  async renewMembership(
    actor: Actor,
    scope: readonly RoleGrant[] | null,
    membershipId: string,
  ): Promise<Membership> {
    const m = await this.membershipById(membershipId);
    const group = await this.groupById(m.groupId);
    if (scope && !canManageGroup(scope, group.path)) throw forbidden(`you do not manage ${group.path}`);
    const st = effectiveStatus(m, this.clock(), this.opts.graceDays);
    if (st !== 'active' && st !== 'expired') throw conflict(`membership is ${st}`);
    m.status = 'active';
    m.expiresAt = new Date(this.clock().getTime() + this.opts.termDays * DAY_MS);
    this.audit.record(actor, 'vo.membership.renew', group.path, {
      membershipId: m.id,
      userId: m.userId,
      expiresAt: m.expiresAt.toISOString(),
    });
    await this.em.flush();
    return m;
  }

  async listMemberships(
    filter: { groupId?: string; groupIds?: string[]; status?: MembershipStatus; userId?: string },
    first: number,
    after?: string | null,
  ): Promise<Page<Membership>> {
    const where: Record<string, unknown> = {};
    if (filter.groupId) where.groupId = filter.groupId;
    if (filter.groupIds) where.groupId = { $in: filter.groupIds };
    if (filter.status) where.status = filter.status;
    if (filter.userId) {
      if (!isUuid(filter.userId)) return { items: [], hasNextPage: false };
      where.userId = filter.userId;
    }
    if (after) {
      if (!isUuid(after)) throw badInput('invalid cursor');
      where.id = { $lt: after };
    }
    const rows = await this.em.find(Membership, where, { orderBy: { id: 'desc' }, limit: first + 1 });
    return { items: rows.slice(0, first), hasNextPage: rows.length > first };
  }

  // ---- roles ----

  private async grant(actor: Actor, userId: string, group: VoGroup, role: VoRole): Promise<RoleAssignment> {
    if (VO_WIDE_ROLES.includes(role) && group.path !== ROOT_GROUP) {
      throw badInput(`${role} is a VO-wide role: grant it in ${ROOT_GROUP}`);
    }
    const existing = await this.em.findOne(RoleAssignment, { userId, groupId: group.id, role });
    if (existing) return existing;
    const r = this.em.create(RoleAssignment, {
      id: uuidv7(),
      userId,
      groupId: group.id,
      role,
      grantedAt: this.clock(),
      grantedBy: actor.userId,
    });
    this.audit.record(actor, 'vo.role.grant', group.path, { userId, role });
    return r;
  }

  async assignRole(
    actor: Actor,
    scope: readonly RoleGrant[] | null,
    userId: string,
    groupPath: string,
    role: VoRole,
  ): Promise<RoleAssignment> {
    if (!VO_ROLES.includes(role)) throw badInput(`unknown role ${role}`);
    const group = await this.groupByPath(groupPath);
    if (scope) {
      // Only VO administrators hand out privileged roles; group managers manage doctors of their groups.
      const allowed = PRIVILEGED_ROLES.includes(role)
        ? isVoAdminFor(scope, group.path)
        : canManageGroup(scope, group.path);
      if (!allowed) throw forbidden(`you may not grant ${role} in ${group.path}`);
    }
    if (!(await this.em.findOne(User, { id: userId }))) throw notFound('user');
    const r = await this.grant(actor, userId, group, role);
    await this.em.flush();
    return r;
  }

  async removeRole(
    actor: Actor,
    scope: readonly RoleGrant[] | null,
    userId: string,
    groupPath: string,
    role: VoRole,
  ): Promise<boolean> {
    const group = await this.groupByPath(groupPath);
    if (scope && !scope.some((r) => r.role === 'vo-admin' && withinGroup(group.path, r.groupPath))) {
      if (!(role === 'doctor' && canManageGroup(scope, group.path)))
        throw forbidden(`you may not remove ${role} in ${group.path}`);
    }
    const r = await this.em.findOne(RoleAssignment, { userId, groupId: group.id, role });
    if (!r) return false;
    this.em.remove(r);
    this.audit.record(actor, 'vo.role.revoke', group.path, { userId, role });
    await this.em.flush();
    return true;
  }

  /** Role grants with their group paths. */
  async rolesOf(userId: string): Promise<RoleGrant[]> {
    const rows = await this.em.find(RoleAssignment, { userId });
    if (!rows.length) return [];
    const groups = await this.em.find(VoGroup, { id: { $in: [...new Set(rows.map((r) => r.groupId))] } });
    const byId = new Map(groups.map((g) => [g.id, g.path]));
    return rows
      .filter((r) => byId.has(r.groupId))
      .map((r) => ({ groupPath: byId.get(r.groupId)!, role: r.role }))
      .sort((a, b) => (a.groupPath + a.role).localeCompare(b.groupPath + b.role));
  }

  /** Roles held in each (user, group) of the given memberships, keyed `userId group groupId`. */
  async rolesInMembershipGroups(
    ms: readonly { userId: string; groupId: string }[],
  ): Promise<Map<string, VoRole[]>> {
    const out = new Map<string, VoRole[]>();
    if (!ms.length) return out;
    const rows = await this.em.find(
      RoleAssignment,
      { userId: { $in: [...new Set(ms.map((m) => m.userId))] } },
      { orderBy: { role: 'asc' } },
    );
    for (const r of rows) {
      const k = `${r.userId} group ${r.groupId}`;
      out.set(k, [...(out.get(k) ?? []), r.role]);
    }
    return out;
  }

  // ---- AUP ----

  async currentAup(): Promise<AupVersion | null> {
    return this.em.findOne(AupVersion, { version: { $gt: 0 } }, { orderBy: { version: 'desc' } });
  }

  async hasAccepted(userId: string, version: number): Promise<boolean> {
    return (await this.em.count(AupAcceptance, { userId, version })) > 0;
  }

  async publishAup(actor: Actor, text: string, acceptBy: Date): Promise<AupVersion> {
    if (!text.trim()) throw badInput('the AUP text is empty');
    if (acceptBy.getTime() <= this.clock().getTime())
      throw badInput('the acceptance deadline must be in the future');
    const cur = await this.currentAup();
    const a = this.em.create(AupVersion, {
      id: uuidv7(),
      version: (cur?.version ?? 0) + 1,
      text,
      publishedAt: this.clock(),
      acceptBy,
      publishedBy: actor.userId,
    });
    this.audit.record(actor, 'vo.aup.publish', `aup:${a.version}`, {
      version: a.version,
      acceptBy: acceptBy.toISOString(),
    });
    await this.em.flush();
    return a;
  }

  /**
   * The user accepts the current AUP. Approved memberships become active, and memberships suspended
   * for a missed AUP deadline are restored.
   */
  async acceptAup(actor: Actor, userId: string, version: number): Promise<AupAcceptance> {
    const cur = await this.currentAup();
    if (!cur) throw notFound('AUP');
    if (cur.version !== version) throw conflict(`the current AUP is version ${cur.version}`);
    const now = this.clock();
    let acc = await this.em.findOne(AupAcceptance, { userId, version });
    if (!acc) {
      acc = this.em.create(AupAcceptance, { id: uuidv7(), userId, version, acceptedAt: now, ip: actor.ip });
      this.audit.record(actor, 'vo.aup.accept', `aup:${version}`, { userId, version });
    }
    for (const m of await this.membershipsOf(userId)) {
      const st = effectiveStatus(m, now, this.opts.graceDays);
      if (st === 'approved' || (st === 'suspended' && m.suspensionKind === 'aup')) {
        const g = await this.groupById(m.groupId);
        if (st === 'approved') this.activate(actor, m, g.path, now);
        else {
          m.status = 'active';
          m.suspendedAt = null;
          m.suspensionKind = null;
          this.audit.record(actor, 'vo.membership.restore', g.path, {
            membershipId: m.id,
            userId,
            cause: 'aup-accepted',
          });
        }
      }
    }
    await this.em.flush();
    return acc;
  }

  /**
   * Persists what time has decided: memberships past term + grace become expired; active members who
   * missed the current AUP's deadline are suspended. Runs periodically; access checks apply the same rules lazily.
   */
  async enforce(actor: Actor): Promise<{ expired: number; suspended: number }> {
    const now = this.clock();
    const cutoff = new Date(now.getTime() - this.opts.graceDays * DAY_MS);
    const toExpire = await this.em.find(Membership, {
      status: { $in: ['active', 'suspended'] },
      expiresAt: { $lt: cutoff },
    });
    const paths = new Map((await this.listGroups()).map((g) => [g.id, g.path]));
    for (const m of toExpire) {
      m.status = 'expired';
      this.audit.record(actor, 'vo.membership.expire', paths.get(m.groupId) ?? null, {
        membershipId: m.id,
        userId: m.userId,
      });
    }
    let suspended = 0;
    const aup = await this.currentAup();
    if (aup && now.getTime() > aup.acceptBy.getTime()) {
      const accepted = new Set(
        (await this.em.find(AupAcceptance, { version: aup.version })).map((a) => a.userId),
      );
      const active = await this.em.find(Membership, { status: 'active' });
      for (const m of active) {
        if (accepted.has(m.userId) || toExpire.includes(m)) continue;
        m.status = 'suspended';
        m.suspendedAt = now;
        m.suspensionKind = 'aup';
        suspended++;
        this.audit.record(actor, 'vo.membership.suspend', paths.get(m.groupId) ?? null, {
          membershipId: m.id,
          userId: m.userId,
          cause: `aup:${aup.version} not accepted by ${aup.acceptBy.toISOString()}`,
        });
      }
    }
    await this.em.flush();
    return { expired: toExpire.length, suspended };
  }

  /** Active memberships whose term ends within `days`. */
  async expiringMemberships(days: number): Promise<Membership[]> {
    const now = this.clock();
    return this.em.find(
      Membership,
      { status: 'active', expiresAt: { $lt: new Date(now.getTime() + days * DAY_MS) } },
      { orderBy: { expiresAt: 'asc' }, limit: 500 },
    );
  }
}
