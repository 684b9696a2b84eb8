import DataLoader from 'dataloader';
import {
  Arg,
  Authorized,
  Ctx,
  Field,
  FieldResolver,
  Float,
  GraphQLISODateTime,
  ID,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
  registerEnumType,
  Subscription,
} from 'type-graphql';
import { DomainError } from '../auth/errors.js';
import { Connection } from '../graphql/connection.js';
import type { GraphqlContext } from '../graphql/context.js';
import { servicesFor } from '../graphql/services.js';
import { pageSize } from '../identity/ids.util.js';
import { LINK_DEFAULT_HOURS, PATIENT_LINK_DEFAULT_DAYS, SharingService } from '../sharing/sharing.service.js';
import type { Instance, Series, Share, Study } from './study.entities.js';
import { STUDY_SORTS, type StudyAccess, StudyService, type StudySort } from './study.service.js';
import { STUDY_PROGRESS, type StudyProgressEvent } from './study-events.js';

export enum StudyScopeEnum {
  MINE = 'mine',
  SHARED = 'shared',
}
registerEnumType(StudyScopeEnum, {
  name: 'StudyScope',
  description: 'mine: uploaded by me; shared: shared with me.',
});

const StudySortEnum = Object.fromEntries(STUDY_SORTS.map((s) => [s.replace(/-/g, '_').toUpperCase(), s]));
registerEnumType(StudySortEnum, { name: 'StudySort' });

@ObjectType('PatientIdentity', {
  description: 'Patient identity; present only for access that carries identity.',
})
class PatientIdentityType {
  @Field(() => String, { nullable: true }) name!: string | null;
  @Field(() => String, { nullable: true }) patientId!: string | null;
  @Field(() => String, { nullable: true }) issuerOfPatientId!: string | null;
  @Field(() => String, { nullable: true }) birthDate!: string | null;
  @Field(() => String, { nullable: true }) sex!: string | null;
  @Field(() => String, { nullable: true }) accessionNumber!: string | null;
}

@ObjectType('Instance')
class InstanceType {
  @Field(() => ID) id!: string;
  @Field(() => String) sopInstanceUid!: string;
  @Field(() => String) sopClassUid!: string;
  @Field(() => Int, { nullable: true }) instanceNumber!: number | null;
  @Field(() => String) transferSyntaxUid!: string;
  @Field(() => Int, { nullable: true }) rows!: number | null;
  @Field(() => Int, { nullable: true }) columns!: number | null;
  @Field(() => Int, { nullable: true }) numberOfFrames!: number | null;
  @Field(() => Float) size!: number;
  @Field(() => String, {
    description:
      'spooled (not yet handed to the worker), queued (store job queued), stored (a verified replica on an SE).',
  })
  storageState!: string;
  @Field(() => Int, { description: 'Verified replicas on SEs (from the storage worker).' }) replicas!: number;
  @Field(() => String, { description: 'WADO-RS URL of this instance.' }) url!: string;
}

@ObjectType('Series')
class SeriesType {
  @Field(() => ID) id!: string;
  @Field(() => String) seriesUid!: string;
  @Field(() => String, { nullable: true }) modality!: string | null;
  @Field(() => Int, { nullable: true }) seriesNumber!: number | null;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => Int) instanceCount!: number;
  @Field(() => Float) totalBytes!: number;
  studyUid!: string;
}

@ObjectType('Study')
class StudyType {
  @Field(() => ID) id!: string;
  @Field(() => String, { description: 'De-identified Study Instance UID.' }) studyUid!: string;
  @Field(() => [String]) modalities!: string[];
  @Field(() => String, { nullable: true, description: 'YYYYMMDD' }) studyDate!: string | null;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => Int) seriesCount!: number;
  @Field(() => Int) instanceCount!: number;
  @Field(() => Float) totalBytes!: number;
  @Field(() => GraphQLISODateTime) createdAt!: Date;
  @Field(() => String, { description: 'OWNER or GRANT' }) access!: string;
  @Field(() => Boolean, { description: 'The caller may see patient identity and download originals.' })
  withIdentity!: boolean;
  @Field(() => Boolean, { description: 'The study holds a patient identity (false for gateway studies).' })
  hasIdentity!: boolean;
  @Field(() => String, { description: 'DICOMweb URL of the study.' }) url!: string;
  @Field(() => String, {
    nullable: true,
    description:
      'DICOMweb URL of a PNG thumbnail (first renderable instance; 406 when none can be rendered).',
  })
  thumbnailUrl!: string | null;
  accessState!: StudyAccess;
}

const StudyConnection = Connection(StudyType, 'Study');

@ObjectType('Share')
class ShareType {
  @Field(() => ID) id!: string;
  @Field(() => String, { description: 'user, link or patient' }) kind!: string;
  @Field(() => Boolean) withIdentity!: boolean;
  @Field(() => GraphQLISODateTime) createdAt!: Date;
  @Field(() => String, { nullable: true }) granteeUserId!: string | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) expiresAt!: Date | null;
  @Field(() => Int, { nullable: true }) maxUses!: number | null;
  @Field(() => Int) uses!: number;
  @Field(() => GraphQLISODateTime, { nullable: true }) revokedAt!: Date | null;
}

@ObjectType('ShareLink')
class ShareLinkType {
  @Field(() => ShareType) share!: ShareType;
  @Field(() => String, { description: 'The capability token, shown once; only its hash is stored.' })
  token!: string;
  @Field(() => String) url!: string;
}

@ObjectType('StudyAccessEntry')
class AccessEntryType {
  @Field(() => String) userId!: string;
  @Field(() => String) name!: string;
  @Field(() => String) facility!: string;
  @Field(() => String, { description: 'owner, user, link or patient' }) via!: string;
  @Field(() => Boolean) withIdentity!: boolean;
  @Field(() => String, { nullable: true }) shareId!: string | null;
  @Field(() => GraphQLISODateTime) since!: Date;
}

@ObjectType('StudyAccessLogEntry')
class AccessLogEntryType {
  @Field(() => ID) id!: string;
  @Field(() => GraphQLISODateTime) at!: Date;
  @Field(() => String, { nullable: true }) actor!: string | null;
  @Field(() => String) action!: string;
  @Field(() => String, { nullable: true }) ip!: string | null;
}
const AccessLogConnection = Connection(AccessLogEntryType, 'StudyAccessLog');

@InputType()
class StudyFilterInput {
  @Field(() => String, { nullable: true }) patientName?: string;
  @Field(() => String, { nullable: true }) patientId?: string;
  @Field(() => String, { nullable: true }) modality?: string;
  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' }) dateFrom?: string;
  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' }) dateTo?: string;
  @Field(() => String, { nullable: true }) description?: string;
}

function studyUrl(s: Study): string {
  return `/dicomweb/studies/${s.studyUid}`;
}

function toStudy(a: StudyAccess): StudyType {
  const s = a.study;
  return {
    id: s.id,
    studyUid: s.studyUid,
    modalities: s.modalities ? s.modalities.split('\\') : [],
    studyDate: s.studyDate ?? null,
    description: s.description ?? null,
    seriesCount: s.seriesCount,
    instanceCount: s.instanceCount,
    totalBytes: Number(s.totalBytes),
    createdAt: s.createdAt,
    access: a.role === 'owner' ? 'OWNER' : 'GRANT',
    withIdentity: a.withIdentity,
    hasIdentity: s.hasIdentity,
    url: studyUrl(s),
    thumbnailUrl: `${studyUrl(s)}/thumbnail`,
    accessState: a,
  };
}

function toShare(s: Share): ShareType {
  return {
    id: s.id,
    kind: s.kind,
    withIdentity: s.withIdentity,
    createdAt: s.createdAt,
    granteeUserId: s.granteeUserId ?? null,
    expiresAt: s.expiresAt ?? null,
    maxUses: s.maxUses ?? null,
    uses: s.uses,
    revokedAt: s.revokedAt ?? null,
  };
}

/** Per-request services and DataLoaders (series by study, instances by series). */
const perRequest = new WeakMap<
  GraphqlContext,
  {
    studies: StudyService;
    sharing: SharingService;
    series: DataLoader<string, Series[]>;
    instances: DataLoader<string, Instance[]>;
    replicas: DataLoader<string, number>;
  }
>();
function domain(ctx: GraphqlContext) {
  let d = perRequest.get(ctx);
  if (!d) {
    const studies = new StudyService(ctx.em, ctx.studies);
    const group = <T>(keys: readonly string[], rows: T[], key: (t: T) => string) =>
      keys.map((k) => rows.filter((r) => key(r) === k));
    d = {
      studies,
      sharing: new SharingService(ctx.em, studies),
      series: new DataLoader(async (ids) => group(ids, await studies.series(ids), (s) => s.studyId)),
      replicas: new DataLoader(async (ids) => {
        const m = await studies.replicaCounts(ids);
        return ids.map((id) => m.get(id) ?? 0);
      }),
      instances: new DataLoader(async (ids) =>
        group(ids, await studies.instancesOfSeries(ids), (i) => i.seriesId),
      ),
    };
    perRequest.set(ctx, d);
  }
  return d;
}

@Resolver(() => StudyType)
export class StudyResolver {
  @Authorized('doctor')
  @Query(() => StudyConnection, {
    description: 'My studies, or studies shared with me; at most 100 per page.',
  })
  async studies(
    @Ctx() ctx: GraphqlContext,
    @Arg('scope', () => StudyScopeEnum, { defaultValue: StudyScopeEnum.MINE }) scope: StudyScopeEnum,
    @Arg('filter', () => StudyFilterInput, { nullable: true }) filter: StudyFilterInput | undefined,
    @Arg('sort', () => StudySortEnum, { nullable: true }) sort: StudySort | undefined,
    @Arg('first', () => Int, { nullable: true }) first: number | undefined,
    @Arg('after', () => String, { nullable: true }) after: string | undefined,
  ) {
    const me = servicesFor(ctx).principal();
    const d = domain(ctx);
    const page = await d.studies.list(me.userId, { scope, sort, ...(filter ?? {}) }, pageSize(first), after);
    const identity =
      scope === 'shared'
        ? await d.studies.grantIdentity(
            me.userId,
            page.items.map((i) => i.study.id),
          )
        : null;
    const edges = page.items.map(({ study, cursor }) => ({
      cursor,
      node: toStudy(
        identity
          ? { study, role: 'grant', withIdentity: identity.get(study.id) ?? false }
          : { study, role: 'owner', withIdentity: true },
      ),
    }));
    return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  @Authorized('doctor')
  @Query(() => StudyType)
  async study(@Ctx() ctx: GraphqlContext, @Arg('id', () => ID) id: string): Promise<StudyType> {
    const me = servicesFor(ctx).principal();
    return toStudy(await domain(ctx).studies.require(me.userId, id));
  }

  @Authorized('doctor')
  @FieldResolver(() => PatientIdentityType, {
    nullable: true,
    description: 'Reading it writes an audit event; null without identity access.',
  })
  async patient(@Root() s: StudyType, @Ctx() ctx: GraphqlContext): Promise<PatientIdentityType | null> {
    const svc = servicesFor(ctx);
    const phi = await domain(ctx).studies.identity(svc.actor, s.accessState);
    if (!phi) return null;
    return {
      name: phi.patientName ?? null,
      patientId: phi.patientId ?? null,
      issuerOfPatientId: phi.issuerOfPatientId ?? null,
      birthDate: phi.patientBirthDate ?? null,
      sex: phi.patientSex ?? null,
      accessionNumber: phi.accessionNumber ?? null,
    };
  }

  @Authorized('doctor')
  @FieldResolver(() => [SeriesType])
  async series(@Root() s: StudyType, @Ctx() ctx: GraphqlContext): Promise<SeriesType[]> {
    const rows = await domain(ctx).series.load(s.id);
    return rows.map((r) => ({
      id: r.id,
      seriesUid: r.seriesUid,
      modality: r.modality ?? null,
      seriesNumber: r.seriesNumber ?? null,
      description: r.description ?? null,
      instanceCount: r.instanceCount,
      totalBytes: Number(r.totalBytes),
      studyUid: s.studyUid,
    }));
  }

  @Authorized('doctor')
  @Query(() => [AccessEntryType], { description: 'Who has access to my study.' })
  async studyAccess(@Ctx() ctx: GraphqlContext, @Arg('studyId', () => ID) studyId: string) {
    return domain(ctx).sharing.whoHasAccess(servicesFor(ctx).principal().userId, studyId);
  }

  @Authorized('doctor')
  @Query(() => [ShareType], { description: 'The shares of my study, revoked ones included.' })
  async studyShares(@Ctx() ctx: GraphqlContext, @Arg('studyId', () => ID) studyId: string) {
    return (await domain(ctx).sharing.shares(servicesFor(ctx).principal().userId, studyId)).map(toShare);
  }

  @Authorized('doctor')
  @Query(() => AccessLogConnection, { description: 'Access log of my study, newest first.' })
  async studyAccessLog(
    @Ctx() ctx: GraphqlContext,
    @Arg('studyId', () => ID) studyId: string,
    @Arg('first', () => Int, { nullable: true }) first: number | undefined,
    @Arg('after', () => String, { nullable: true }) after: string | undefined,
  ) {
    const svc = servicesFor(ctx);
    const study = await domain(ctx).studies.requireOwner(svc.principal().userId, studyId);
    const page = await svc.audit.search({ target: `study:${study.id}` }, pageSize(first), after);
    const edges = page.items.map((e) => ({
      cursor: e.id,
      node: { id: e.id, at: e.at, actor: e.actor ?? null, action: e.action, ip: e.ip ?? null },
    }));
    return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  @Authorized('doctor')
  @Mutation(() => ShareType, { description: 'Share my study with a named doctor.' })
  async shareStudy(
    @Ctx() ctx: GraphqlContext,
    @Arg('studyId', () => ID) studyId: string,
    @Arg('userId', () => ID) userId: string,
    @Arg('withIdentity', () => Boolean) withIdentity: boolean,
  ) {
    const svc = servicesFor(ctx);
    return toShare(
      await domain(ctx).sharing.shareWithUser(
        svc.actor,
        svc.principal().userId,
        studyId,
        userId,
        withIdentity,
      ),
    );
  }

  @Authorized('doctor')
  @Mutation(() => ShareLinkType, { description: 'A link any signed-in doctor can redeem.' })
  async createShareLink(
    @Ctx() ctx: GraphqlContext,
    @Arg('studyId', () => ID) studyId: string,
    @Arg('withIdentity', () => Boolean) withIdentity: boolean,
    @Arg('expiresInHours', () => Int, { defaultValue: LINK_DEFAULT_HOURS }) expiresInHours: number,
    @Arg('maxUses', () => Int, { nullable: true }) maxUses: number | undefined,
  ) {
    if (expiresInHours < 1 || expiresInHours > 24 * 365)
      throw new DomainError('BAD_USER_INPUT', 'expiresInHours: 1..8760');
    return this.link(ctx, studyId, 'link', withIdentity, expiresInHours, maxUses ?? null);
  }

  @Authorized('doctor')
  @Mutation(() => ShareLinkType, {
    description: 'A link for the patient to forward to a doctor of their choice.',
  })
  async createPatientLink(
    @Ctx() ctx: GraphqlContext,
    @Arg('studyId', () => ID) studyId: string,
    @Arg('withIdentity', () => Boolean, { defaultValue: true }) withIdentity: boolean,
    @Arg('expiresInDays', () => Int, { defaultValue: PATIENT_LINK_DEFAULT_DAYS }) expiresInDays: number,
    @Arg('maxUses', () => Int, { nullable: true }) maxUses: number | undefined,
  ) {
    if (expiresInDays < 1 || expiresInDays > 3650)
      throw new DomainError('BAD_USER_INPUT', 'expiresInDays: 1..3650');
    return this.link(ctx, studyId, 'patient', withIdentity, expiresInDays * 24, maxUses ?? null);
  }

  private async link(
    ctx: GraphqlContext,
    studyId: string,
    kind: 'link' | 'patient',
    withIdentity: boolean,
    hours: number,
    maxUses: number | null,
  ): Promise<ShareLinkType> {
    const svc = servicesFor(ctx);
    const { share, token } = await domain(ctx).sharing.createLink(
      svc.actor,
      svc.principal().userId,
      studyId,
      kind,
      {
        withIdentity,
        expiresAt: new Date(Date.now() + hours * 3600_000),
        maxUses,
      },
    );
    return { share: toShare(share), token, url: `${ctx.studies.publicUrl}/s/${token}` };
  }

  @Authorized('doctor')
  @Mutation(() => StudyType, { description: 'Redeem a share link or patient link; gives me access.' })
  async redeemShareLink(@Ctx() ctx: GraphqlContext, @Arg('token', () => String) token: string) {
    const svc = servicesFor(ctx);
    const me = svc.principal();
    const study = await domain(ctx).sharing.redeem(svc.actor, me.userId, token);
    return toStudy(await domain(ctx).studies.require(me.userId, study.id));
  }

  @Authorized('doctor')
  @Mutation(() => Boolean, { description: 'Revoke a share of my study and every access made from it.' })
  async revokeShare(@Ctx() ctx: GraphqlContext, @Arg('shareId', () => ID) shareId: string) {
    const svc = servicesFor(ctx);
    await domain(ctx).sharing.revoke(svc.actor, svc.principal().userId, shareId);
    return true;
  }

  @Authorized('doctor')
  @Mutation(() => Boolean, { description: 'Soft-delete my study.' })
  async deleteStudy(@Ctx() ctx: GraphqlContext, @Arg('studyId', () => ID) studyId: string) {
    const svc = servicesFor(ctx);
    await domain(ctx).studies.softDelete(svc.actor, svc.principal().userId, studyId);
    return true;
  }
}

@ObjectType('StudyProgress', { description: 'One ingest or storage step of an instance of my studies.' })
class StudyProgressType {
  @Field(() => ID) studyId!: string;
  @Field(() => String) sopInstanceUid!: string;
  @Field(() => String, { description: 'ingested, queued or duplicate' }) state!: string;
  @Field(() => GraphQLISODateTime) at!: Date;
}

@Resolver()
export class StudyProgressResolver {
  @Authorized('doctor', 'gateway')
  @Subscription(() => StudyProgressType, {
    topics: STUDY_PROGRESS,
    // Only the uploader's own instances (optionally one study).
    filter: ({
      payload,
      args,
      context,
    }: {
      payload: StudyProgressEvent;
      args: { studyId?: string };
      context: GraphqlContext;
    }) =>
      payload.ownerId === context.auth.principal?.userId &&
      (!args.studyId || args.studyId === payload.studyId),
    description: 'Ingest and storage progress of my uploads (graphql-ws on /graphql).',
  })
  studyProgress(
    @Root() e: StudyProgressEvent,
    @Arg('studyId', () => ID, { nullable: true }) _studyId?: string,
  ): StudyProgressType {
    return { studyId: e.studyId, sopInstanceUid: e.sopInstanceUid, state: e.state, at: e.at };
  }
}

@Resolver(() => SeriesType)
export class SeriesResolver {
  @Authorized('doctor')
  @FieldResolver(() => [InstanceType])
  async instances(@Root() s: SeriesType, @Ctx() ctx: GraphqlContext): Promise<InstanceType[]> {
    const rows = await domain(ctx).instances.load(s.id);
    const replicas = await domain(ctx).replicas.loadMany(rows.map((i) => i.objectSha256));
    return rows.map((i, n) => ({
      id: i.id,
      sopInstanceUid: i.sopInstanceUid,
      sopClassUid: i.sopClassUid,
      instanceNumber: i.instanceNumber ?? null,
      transferSyntaxUid: i.transferSyntaxUid,
      rows: i.rows ?? null,
      columns: i.columns ?? null,
      numberOfFrames: i.numberOfFrames ?? null,
      size: Number(i.size),
      replicas: typeof replicas[n] === 'number' ? (replicas[n] as number) : 0,
      storageState:
        typeof replicas[n] === 'number' && (replicas[n] as number) > 0 ? 'stored' : i.storageState,
      url: `/dicomweb/studies/${s.studyUid}/series/${s.seriesUid}/instances/${i.sopInstanceUid}`,
    }));
  }
}
