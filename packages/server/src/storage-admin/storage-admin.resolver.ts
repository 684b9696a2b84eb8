import type { JobInfo } from '@medgrid/worker';
import {
  Arg,
  Authorized,
  Ctx,
  Field,
  Float,
  GraphQLISODateTime,
  ID,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  registerEnumType,
} from 'type-graphql';
import type { GraphqlContext } from '../graphql/context.js';
import { servicesFor } from '../graphql/services.js';
import {
  type IngestDay,
  type ReplicationHealth,
  type ScanReportSummary,
  type SeAction,
  type SeSummary,
  StorageAdminService,
} from './storage-admin.service.js';

enum SeActionEnum {
  ENABLE = 'enable',
  DISABLE = 'disable',
  DRAIN = 'drain',
}
registerEnumType(SeActionEnum, {
  name: 'StorageElementAction',
  description: 'enable: read and write; disable: neither (copies still count); drain: move copies away.',
});

enum JobListEnum {
  PENDING = 'pending',
  FAILED = 'failed',
}
registerEnumType(JobListEnum, { name: 'StorageJobList' });

const upper = (s: string) => s.replace(/-/g, '_').toUpperCase();

@ObjectType('StorageElement')
class StorageElementType {
  @Field(() => String) name!: string;
  @Field(() => String) url!: string;
  @Field(() => String, { description: 'UP, DOWN (disabled), READ_ONLY, DRAINING or LOST.' }) status!: string;
  @Field(() => Int) weight!: number;
  @Field(() => Float, { nullable: true }) quotaBytes!: number | null;
  @Field(() => Float, { description: 'Bytes the worker has written there.' }) usedBytes!: number;
  @Field(() => Int, { description: 'Good replicas on this SE.' }) objects!: number;
  @Field(() => Float) objectBytes!: number;
  @Field(() => Int, { description: 'Replicas that are bad, missing or lost.' }) problemReplicas!: number;

  static from(s: SeSummary): StorageElementType {
    return Object.assign(new StorageElementType(), { ...s, status: upper(s.status) });
  }
}

@ObjectType('ReplicaStateCount')
class ReplicaStateCount {
  @Field(() => String) state!: string;
  @Field(() => Int) count!: number;
}

@ObjectType('UnderReplicatedObject')
class UnderReplicatedObject {
  @Field(() => String, { description: 'SHA-256 of the de-identified object.' }) objectId!: string;
  @Field(() => Int) copies!: number;
  @Field(() => Int) good!: number;
}

@ObjectType('ReplicationHealth')
class ReplicationHealthType {
  @Field(() => Int) objects!: number;
  @Field(() => Int) healthy!: number;
  @Field(() => Int) underReplicated!: number;
  @Field(() => Int) withoutCopy!: number;
  @Field(() => [ReplicaStateCount]) replicasByState!: ReplicaStateCount[];
  @Field(() => [UnderReplicatedObject]) worst!: UnderReplicatedObject[];

  static from(h: ReplicationHealth): ReplicationHealthType {
    return Object.assign(new ReplicationHealthType(), {
      ...h,
      replicasByState: h.replicasByState.map((s) => Object.assign(new ReplicaStateCount(), s)),
      worst: h.worst.map((w) => Object.assign(new UnderReplicatedObject(), w)),
    });
  }
}

@ObjectType('StorageJob')
class StorageJobType {
  @Field(() => ID) id!: string;
  @Field(() => String, { description: 'store, verify, stage, replicate, delete or scan.' }) kind!: string;
  @Field(() => String, { description: 'CREATED, RETRY, ACTIVE, COMPLETED, CANCELLED or FAILED.' })
  state!: string;
  @Field(() => String, { description: 'What the job is about: an object id (hash) or an SE name.' })
  subject!: string;
  @Field(() => Int) retryCount!: number;
  @Field(() => Int) retryLimit!: number;
  @Field(() => String, { description: 'The error of the last failed attempt.' }) reason!: string;
  @Field(() => GraphQLISODateTime) createdOn!: Date;
  @Field(() => GraphQLISODateTime, { nullable: true }) completedOn!: Date | null;

  static from(j: JobInfo): StorageJobType {
    const d = (j.data ?? {}) as { objectId?: string; se?: string };
    return Object.assign(new StorageJobType(), {
      id: j.id,
      kind: j.kind,
      state: j.state.toUpperCase(),
      subject: d.objectId ?? d.se ?? '',
      retryCount: j.retryCount,
      retryLimit: j.retryLimit,
      reason: j.reason,
      createdOn: j.createdOn,
      completedOn: j.completedOn,
    });
  }
}

@ObjectType('StorageJobCount')
class StorageJobCount {
  @Field(() => String) kind!: string;
  @Field(() => String) state!: string;
  @Field(() => Int) count!: number;
}

@ObjectType('IngestDay')
class IngestDayType {
  @Field(() => String, { description: 'UTC date, YYYY-MM-DD.' }) day!: string;
  @Field(() => Int) objects!: number;
  @Field(() => Float) bytes!: number;

  static from(d: IngestDay): IngestDayType {
    return Object.assign(new IngestDayType(), d);
  }
}

@ObjectType('ScanReport')
class ScanReportType {
  @Field(() => ID) jobId!: string;
  @Field(() => String) se!: string;
  @Field(() => GraphQLISODateTime, { nullable: true }) finishedAt!: Date | null;
  @Field(() => Int) listed!: number;
  @Field(() => Int, { description: 'Files on the SE the database does not know.' }) dark!: number;
  @Field(() => Int, { description: 'Replicas the database knows that the SE does not have.' })
  missing!: number;
  @Field(() => Int) quarantined!: number;
  @Field(() => Int) repairQueued!: number;
  @Field(() => [String]) darkSample!: string[];
  @Field(() => [String]) missingSample!: string[];

  static from(r: ScanReportSummary): ScanReportType {
    return Object.assign(new ScanReportType(), r);
  }
}

const svc = (ctx: GraphqlContext) => new StorageAdminService(ctx.em, ctx.storageAdmin);

/** Storage administration: SEs, replication health, the job queue, consistency scans, ingest statistics. */
@Resolver()
export class StorageAdminResolver {
  @Authorized('vo-admin')
  @Query(() => [StorageElementType], { description: 'Storage elements with their status and usage.' })
  async storageElements(@Ctx() ctx: GraphqlContext): Promise<StorageElementType[]> {
    return (await svc(ctx).storageElements()).map(StorageElementType.from);
  }

  @Authorized('vo-admin')
  @Query(() => ReplicationHealthType)
  async replicationHealth(@Ctx() ctx: GraphqlContext): Promise<ReplicationHealthType> {
    return ReplicationHealthType.from(await svc(ctx).replicationHealth());
  }

  @Authorized('vo-admin')
  @Query(() => [IngestDayType], { description: 'Objects stored per UTC day, oldest first, today last.' })
  async ingestPerDay(
    @Ctx() ctx: GraphqlContext,
    @Arg('days', () => Int, { defaultValue: 14 }) days: number,
  ): Promise<IngestDayType[]> {
    return (await svc(ctx).ingestPerDay(days)).map(IngestDayType.from);
  }

  @Authorized('vo-admin')
  @Query(() => [StorageJobType], { description: 'Pending or failed storage jobs, newest first.' })
  async storageJobs(
    @Ctx() ctx: GraphqlContext,
    @Arg('list', () => JobListEnum) list: JobListEnum,
    @Arg('first', () => Int, { defaultValue: 100 }) first: number,
  ): Promise<StorageJobType[]> {
    const jobs = await svc(ctx).jobs(list, Math.min(Math.max(first, 1), 500));
    return jobs.map(StorageJobType.from);
  }

  @Authorized('vo-admin')
  @Query(() => [StorageJobCount], { description: 'Jobs pg-boss still keeps, per kind and state.' })
  async storageJobCounts(@Ctx() ctx: GraphqlContext): Promise<StorageJobCount[]> {
    return (await svc(ctx).jobCounts()).map((c) =>
      Object.assign(new StorageJobCount(), { ...c, state: c.state.toUpperCase() }),
    );
  }

  @Authorized('vo-admin')
  @Query(() => [ScanReportType], { description: 'Finished consistency scans, newest first.' })
  async scanReports(
    @Ctx() ctx: GraphqlContext,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
  ): Promise<ScanReportType[]> {
    return (await svc(ctx).scanReports(Math.min(Math.max(first, 1), 100))).map(ScanReportType.from);
  }

  @Authorized('vo-admin')
  @Mutation(() => StorageElementType, { description: 'Enable, disable or drain an SE (audited).' })
  async setStorageElementStatus(
    @Ctx() ctx: GraphqlContext,
    @Arg('name', () => String) name: string,
    @Arg('action', () => SeActionEnum) action: SeActionEnum,
  ): Promise<StorageElementType> {
    const out = await svc(ctx).setSeStatus(servicesFor(ctx).actor, name, action as SeAction);
    return StorageElementType.from(out);
  }

  @Authorized('vo-admin')
  @Mutation(() => StorageJobType, { description: 'Requeue a failed storage job (audited).' })
  async retryStorageJob(
    @Ctx() ctx: GraphqlContext,
    @Arg('id', () => ID) id: string,
  ): Promise<StorageJobType> {
    return StorageJobType.from(await svc(ctx).retryJob(servicesFor(ctx).actor, id));
  }

  @Authorized('vo-admin')
  @Mutation(() => ID, { description: 'Queue a consistency scan of an SE (audited); returns the job id.' })
  async startConsistencyScan(
    @Ctx() ctx: GraphqlContext,
    @Arg('se', () => String) se: string,
    @Arg('repair', () => Boolean, { defaultValue: false }) repair: boolean,
  ): Promise<string> {
    return svc(ctx).startScan(servicesFor(ctx).actor, se, repair);
  }
}
