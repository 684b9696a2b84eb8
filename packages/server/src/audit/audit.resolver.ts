import {
  Arg,
  Authorized,
  Ctx,
  Field,
  GraphQLISODateTime,
  ID,
  Int,
  ObjectType,
  Query,
  Resolver,
} from 'type-graphql';
import { Connection, toConnection } from '../graphql/connection.js';
import type { GraphqlContext } from '../graphql/context.js';
import { servicesFor } from '../graphql/services.js';
import { pageSize } from '../identity/ids.util.js';
import type { AuditEvent } from './audit-event.entity.js';

@ObjectType('AuditEvent')
class AuditEventType {
  @Field(() => ID)
  id!: string;

  @Field(() => GraphQLISODateTime)
  at!: Date;

  @Field(() => String, { nullable: true })
  actor!: string | null;

  @Field(() => String)
  action!: string;

  @Field(() => String, { nullable: true })
  target!: string | null;

  @Field(() => String, { nullable: true })
  ip!: string | null;

  @Field(() => String, { nullable: true, description: 'JSON object of identifiers.' })
  details!: string | null;

  static from(e: AuditEvent): AuditEventType {
    return Object.assign(new AuditEventType(), {
      id: e.id,
      at: e.at,
      actor: e.actor ?? null,
      action: e.action,
      target: e.target ?? null,
      ip: e.ip ?? null,
      details: e.details ? JSON.stringify(e.details) : null,
    });
  }
}

@ObjectType()
class AuditEventConnection extends Connection(AuditEventType, 'AuditEvent') {}

@Resolver()
export class AuditResolver {
  @Authorized('vo-admin')
  @Query(() => AuditEventConnection, {
    description: 'Audit events, newest first. `action` ending in "." matches a prefix.',
  })
  async auditEvents(
    @Ctx() ctx: GraphqlContext,
    @Arg('actor', () => String, { nullable: true }) actor?: string,
    @Arg('action', () => String, { nullable: true }) action?: string,
    @Arg('target', () => String, { nullable: true }) target?: string,
    @Arg('from', () => GraphQLISODateTime, { nullable: true }) from?: Date,
    @Arg('to', () => GraphQLISODateTime, { nullable: true }) to?: Date,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<AuditEventConnection> {
    const filter = {
      ...(actor ? { actor } : {}),
      ...(action ? { action } : {}),
      ...(target ? { target } : {}),
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
    };
    const page = await servicesFor(ctx).audit.search(filter, pageSize(first), after ?? undefined);
    return toConnection(page, AuditEventType.from);
  }
}
