import type { EntityManager } from '@mikro-orm/postgresql';
import { type Actor, AuditService } from '../audit/audit.service.js';
import { badInput, conflict, notFound } from '../auth/errors.js';
import { isUuid, type Page, uuidv7 } from '../identity/ids.util.js';
import { User, type UserKind } from './user.entity.js';

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
    filter: { facility?: string; search?: string },
    first: number,
    after?: string | null,
  ): Promise<Page<User>> {
    const where: Record<string, unknown> = {};
    if (filter.facility) where.facility = filter.facility;
    if (filter.search) where.name = { $ilike: `%${filter.search.replace(/[%_\\]/g, (c) => `\\${c}`)}%` };
    if (after) {
      if (!isUuid(after)) throw badInput('invalid cursor');
      where.id = { $lt: after };
    }
    const rows = await this.em.find(User, where, { orderBy: { id: 'desc' }, limit: first + 1 });
    return { items: rows.slice(0, first), hasNextPage: rows.length > first };
  }
}
