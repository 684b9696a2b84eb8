import type { EntityManager } from '@mikro-orm/postgresql';
import { AuditEvent } from './audit-event.entity.js';

/** Who performs an operation: a user (with their certificate subject), the CLI or the system itself. */
export interface Actor {
  userId: string | null;
  /** Certificate subject DN, `cli` or `system`. */
  label: string;
  ip: string | null;
}

export const SYSTEM_ACTOR: Actor = { userId: null, label: 'system', ip: null };
export const CLI_ACTOR: Actor = { userId: null, label: 'cli', ip: null };

export interface AuditFilter {
  actor?: string;
  /** Exact action or a prefix ending in `.` (e.g. `vo.`). */
  action?: string;
  target?: string;
  from?: Date;
  to?: Date;
}

/** Writes and searches audit events. Details carry identifiers only, never patient data or secrets. */
export class AuditService {
  constructor(private readonly em: EntityManager) {}

  /** Persists (does not flush) an event, so it commits atomically with the change it describes. */
  record(actor: Actor, action: string, target: string | null, details?: Record<string, unknown>): AuditEvent {
    const ev = this.em.create(AuditEvent, {
      at: new Date(),
      actor: actor.userId ? `${actor.label} [${actor.userId}]` : actor.label,
      action,
      target,
      ip: actor.ip,
      details: details ?? null,
    });
    this.em.persist(ev);
    return ev;
  }

  /** Newest first; `after` is the id of the last event of the previous page. */
  async search(
    filter: AuditFilter,
    first: number,
    after?: string,
  ): Promise<{ items: AuditEvent[]; hasNextPage: boolean }> {
    const where: Record<string, unknown> = {};
    if (filter.actor) where.actor = { $ilike: `%${filter.actor.replace(/[%_\\]/g, (c) => `\\${c}`)}%` };
    if (filter.action)
      where.action = filter.action.endsWith('.') ? { $like: `${filter.action}%` } : filter.action;
    if (filter.target) where.target = filter.target;
    const at: Record<string, Date> = {};
    if (filter.from) at.$gte = filter.from;
    if (filter.to) at.$lt = filter.to;
    if (Object.keys(at).length) where.at = at;
    if (after) {
      if (!/^\d+$/.test(after)) return { items: [], hasNextPage: false };
      where.id = { $lt: after };
    }
    const rows = await this.em.find(AuditEvent, where, { orderBy: { id: 'desc' }, limit: first + 1 });
    return { items: rows.slice(0, first), hasNextPage: rows.length > first };
  }
}
