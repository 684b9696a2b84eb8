import type { EntityManager } from '@mikro-orm/postgresql';
import { type Actor, AuditService } from '../audit/audit.service.js';
import { badInput, conflict, notFound } from '../auth/errors.js';
import { isUuid, type Page, uuidv7 } from '../identity/ids.util.js';
import { USER_KINDS, User, type UserKind } from './user.entity.js';

// Same rule as the CA's DN names: letters of any script, digits, space and . - _ ' ’ ( ) & @ №.
const NAME_RE = /^[\p{L}\p{M}\p{N} .\-_'’()&@№]{1,64}$/u;

export function checkName(what: string, value: string): string {
  const v = value.normalize('NFC').trim();
  if (!NAME_RE.test(v)) throw badInput(`${what} must be 1-64 letters, digits, spaces or . - _ ' ( ) & @`);
  return v;
}

export class UserService {
  private readonly audit: AuditService;
  constructor(private readonly em: EntityManager) {
    this.audit = new AuditService(em);
  }

  async create(
    actor: Actor,
    input: { name: string; facility: string; kind?: UserKind; email?: string | null },
  ): Promise<User> {
    const name = checkName('name', input.name);
    const facility = checkName('facility', input.facility);
    const kind = input.kind ?? 'person';
    if (await this.em.findOne(User, { name, facility, kind })) {
      throw conflict(`a ${kind} account named ${name} at ${facility} exists`);
    }
    const u = this.em.create(User, {
      id: uuidv7(),
      kind,
      name,
      facility,
      email: input.email ?? null,
      createdAt: new Date(),
    });
    this.audit.record(actor, 'user.create', `user:${u.id}`, { kind, facility });
    await this.em.flush();
    return u;
  }

  async byId(id: string): Promise<User> {
    const u = isUuid(id) ? await this.em.findOne(User, { id }) : null;
    if (!u) throw notFound('user');
    return u;
  }

  async maybeById(id: string): Promise<User | null> {
    return isUuid(id) ? this.em.findOne(User, { id }) : null;
  }

  async byIds(ids: readonly string[]): Promise<Map<string, User>> {
    const rows = ids.length ? await this.em.find(User, { id: { $in: [...new Set(ids)] } }) : [];
    return new Map(rows.map((u) => [u.id, u]));
  }

  async list(
    filter: { facility?: string; search?: string; kind?: string },
    first: number,
    after?: string | null,
  ): Promise<Page<User>> {
    const where: Record<string, unknown> = {};
    if (filter.facility) where.facility = filter.facility;
    if (filter.kind !== undefined) {
      if (!(USER_KINDS as readonly string[]).includes(filter.kind))
        throw badInput('kind is person or service');
      where.kind = filter.kind;
    }
    if (filter.search) where.name = { $ilike: `%${filter.search.replace(/[%_\\]/g, (c) => `\\${c}`)}%` };
    if (after) {
      if (!isUuid(after)) throw badInput('invalid cursor');
      where.id = { $lt: after };
    }
    const rows = await this.em.find(User, where, { orderBy: { id: 'desc' }, limit: first + 1 });
    return { items: rows.slice(0, first), hasNextPage: rows.length > first };
  }

  /**
   * The directory doctors search when sharing a study: persons holding the doctor role with an active
   * membership, matched by a name fragment (at least 2 characters), at most `limit`, the caller left out.
   */
  async doctors(callerId: string, search: string, limit: number): Promise<DoctorEntry[]> {
    const q = search.trim();
    if (q.length < 2) throw badInput('type at least 2 characters of the name');
    const like = `%${q.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
    return (await this.em.getConnection().execute(
      `select u.id, u.name, u.facility from medgrid_user u
        where u.kind = 'person' and u.id <> ? and u.name ilike ?
          and exists (select 1 from vo_role_assignment r where r.user_id = u.id and r.role = 'doctor')
          and exists (select 1 from vo_membership m where m.user_id = u.id and m.status = 'active')
        order by u.name, u.facility limit ?`,
      [callerId, like, limit],
    )) as DoctorEntry[];
  }
}

/** A doctor as the sharing directory shows them: no e-mail, no certificate, no group. */
export interface DoctorEntry {
  id: string;
  name: string;
  facility: string;
}
