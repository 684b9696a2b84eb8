import { defineEntity, p } from '@mikro-orm/core';

/**
 * Append-only record of who did what, when and from where. Never deleted by normal operations.
 * `details` holds identifiers only (user ids, de-identified UIDs), never patient data.
 */
export const AuditEventSchema = defineEntity({
  name: 'AuditEvent',
  tableName: 'audit_event',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    at: p.datetime().defaultRaw('now()').index(),
    actor: p.string().length(512).nullable().index(),
    action: p.string().length(128).index(),
    target: p.string().length(512).nullable().index(),
    ip: p.string().length(64).nullable(),
    details: p.json<Record<string, unknown>>().nullable(),
  },
});

export class AuditEvent extends AuditEventSchema.class {}
AuditEventSchema.setClass(AuditEvent);
