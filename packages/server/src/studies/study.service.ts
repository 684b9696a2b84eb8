import { unlink } from 'node:fs/promises';
import { dsVector, sliceOrder } from '@medgrid/dicom';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../audit/audit.service.js';
import { AuditService } from '../audit/audit.service.js';
import { DomainError } from '../auth/errors.js';
import { open } from '../crypto/envelope.js';
import { isUuid } from '../identity/ids.util.js';
import type { PhiRecord } from './ingest.service.js';
import type { StudiesRuntime } from './studies.runtime.js';
import { Instance, Series, Study } from './study.entities.js';

export type StudyScope = 'mine' | 'shared' | 'all';
export const STUDY_SORTS = ['created-desc', 'created-asc', 'study-date-desc', 'study-date-asc'] as const;
export type StudySort = (typeof STUDY_SORTS)[number];

export interface StudyFilter {
  scope: StudyScope;
  patientName?: string | undefined;
  patientId?: string | undefined;
  modality?: string | undefined;
  dateFrom?: string | undefined;
  dateTo?: string | undefined;
  description?: string | undefined;
  studyUids?: string[] | undefined;
  /** Offset given directly (QIDO-RS `offset`), instead of a cursor. */
  offset?: number | undefined;
  sort?: StudySort | undefined;
}

export interface StudyAccess {
  study: Study;
  role: 'owner' | 'grant';
  withIdentity: boolean;
}

/** A refusal that does not tell whether the study exists. */
export const noAccess = () => new DomainError('FORBIDDEN', 'no access to this study');

const SORT_SQL: Record<StudySort, string> = {
  'created-desc': 's.created_at desc, s.id desc',
  'created-asc': 's.created_at asc, s.id asc',
  'study-date-desc': 's.study_date desc nulls last, s.id desc',
  'study-date-asc': 's.study_date asc nulls last, s.id asc',
};

/** Reads studies for a caller: access checks, listing with blind-index search, series, instances, identity. */
export class StudyService {
  constructor(
    private readonly em: EntityManager,
    private readonly rt: StudiesRuntime,
  ) {}

  /** The caller's access to a study (owner, or an active grant of an active share), or null. */
  async access(userId: string, studyId: string): Promise<StudyAccess | null> {
    if (!isUuid(studyId)) return null;
    const study = await this.em.findOne(Study, { id: studyId, deletedAt: null });
    if (!study) return null;
    if (study.ownerId === userId) return { study, role: 'owner', withIdentity: true };
    const rows = (await this.em.getConnection().execute(
      `select bool_or(g.with_identity) as wi from study_grant g join study_share s on s.id = g.share_id
        where g.study_id = ? and g.user_id = ? and g.revoked_at is null and s.revoked_at is null`,
      [studyId, userId],
    )) as { wi: boolean | null }[];
    const wi = rows[0]?.wi;
    if (wi === null || wi === undefined) return null;
    return { study, role: 'grant', withIdentity: wi };
  }

  /** For studies shared with the caller: whether the caller's grants carry identity (one query for a page). */
  async grantIdentity(userId: string, studyIds: readonly string[]): Promise<Map<string, boolean>> {
    if (!studyIds.length) return new Map();
    const rows = (await this.em.getConnection().execute(
      `select g.study_id, bool_or(g.with_identity) as wi from study_grant g join study_share s on s.id = g.share_id
        where g.user_id = ? and g.revoked_at is null and s.revoked_at is null
          and g.study_id in (${studyIds.map(() => '?').join(',')}) group by g.study_id`,
      [userId, ...studyIds],
    )) as { study_id: string; wi: boolean }[];
    return new Map(rows.map((r) => [r.study_id, r.wi]));
  }

  /** Good replicas per object, from the storage worker's tables (`storage_replica`). */
  async replicaCounts(objectIds: readonly string[]): Promise<Map<string, number>> {
    if (!objectIds.length) return new Map();
    const rows = (await this.em.getConnection().execute(
      `select object_id, count(*) filter (where state = 'ok')::int as n from storage_replica
        where object_id in (${objectIds.map(() => '?').join(',')}) group by object_id`,
      [...objectIds],
    )) as { object_id: string; n: number }[];
    return new Map(rows.map((r) => [r.object_id, r.n]));
  }

  async require(userId: string, studyId: string): Promise<StudyAccess> {
    const a = await this.access(userId, studyId);
    if (!a) throw noAccess();
    return a;
  }

  async requireOwner(userId: string, studyId: string): Promise<Study> {
    const a = await this.access(userId, studyId);
    if (!a || a.role !== 'owner') throw noAccess();
    return a.study;
  }

  /** Every accessible study with this (de-identified) Study Instance UID; the best access first. */
  async accessByUid(userId: string, studyUid: string): Promise<StudyAccess | null> {
    const rows = (await this.em.getConnection().execute(
      `select s.id from study s where s.study_uid = ? and s.deleted_at is null and (s.owner_id = ? or exists (
         select 1 from study_grant g join study_share sh on sh.id = g.share_id where g.study_id = s.id
            and g.user_id = ? and g.revoked_at is null and sh.revoked_at is null))`,
      [studyUid, userId, userId],
    )) as { id: string }[];
    let best: StudyAccess | null = null;
    for (const r of rows) {
      const a = await this.access(userId, r.id);
      if (
        a &&
        (!best || (a.withIdentity && !best.withIdentity) || (a.role === 'owner' && best.role !== 'owner'))
      )
        best = a;
    }
    return best;
  }

  /** One page of studies. The cursor is an opaque offset. */
  async list(
    userId: string,
    f: StudyFilter,
    first: number,
    after?: string | null,
  ): Promise<{ items: { study: Study; cursor: string }[]; hasNextPage: boolean }> {
    const where: string[] = ['s.deleted_at is null'];
    const params: unknown[] = [];
    if (f.scope === 'mine') {
      where.push('s.owner_id = ?');
      params.push(userId);
    } else if (f.scope === 'all') {
      where.push(`(s.owner_id = ? or s.id in (select g.study_id from study_grant g join study_share sh
        on sh.id = g.share_id where g.user_id = ? and g.revoked_at is null and sh.revoked_at is null))`);
      params.push(userId, userId);
    } else {
      where.push(`s.owner_id <> ? and s.id in (select g.study_id from study_grant g join study_share sh
        on sh.id = g.share_id where g.user_id = ? and g.revoked_at is null and sh.revoked_at is null)`);
      params.push(userId, userId);
    }
    if (f.patientName?.trim()) {
      const tokens = this.rt.blind.nameTokens(f.patientName);
      if (tokens.length) {
        where.push(
          `s.id in (select study_id from study_blind_index where kind = 'name' and digest in (${tokens
            .map(() => '?')
            .join(',')}) group by study_id having count(distinct digest) = ?)`,
        );
        params.push(...tokens, tokens.length);
      }
    }
    if (f.patientId?.trim()) {
      where.push(`s.id in (select study_id from study_blind_index where kind = 'pid' and digest = ?)`);
      params.push(this.rt.blind.idToken(f.patientId));
    }
    if (f.modality?.trim()) {
      where.push(`(s.modalities = ? or s.modalities like ? or s.modalities like ? or s.modalities like ?)`);
      const m = f.modality.trim().toUpperCase();
      params.push(m, `${m}\\\\%`, `%\\\\${m}`, `%\\\\${m}\\\\%`);
    }
    if (f.dateFrom) {
      where.push('s.study_date >= ?');
      params.push(dateArg(f.dateFrom));
    }
    if (f.dateTo) {
      where.push('s.study_date <= ?');
      params.push(dateArg(f.dateTo));
    }
    if (f.description?.trim()) {
      where.push(`s.description ilike ?`);
      params.push(`%${f.description.trim().replace(/[%_\\]/g, (c) => `\\${c}`)}%`);
    }
    if (f.studyUids?.length) {
      where.push(`s.study_uid in (${f.studyUids.map(() => '?').join(',')})`);
      params.push(...f.studyUids);
    }
    const offset = f.offset ?? decodeCursor(after);
    // One query, rows mapped to plain objects (no entity hydration: this is the hot list of the API).
    const rows = (await this.em.getConnection().execute(
      `select ${STUDY_COLUMNS} from study s where ${where.join(' and ')}
        order by ${SORT_SQL[f.sort ?? 'created-desc']} limit ? offset ?`,
      [...params, first + 1, offset],
    )) as StudyRow[];
    return {
      items: rows
        .slice(0, first)
        .map((r, i) => ({ study: studyOfRow(r), cursor: encodeCursor(offset + i + 1) })),
      hasNextPage: rows.length > first,
    };
  }

  async series(studyIds: readonly string[]): Promise<Series[]> {
    return this.em.find(
      Series,
      { studyId: { $in: [...studyIds] } },
      { orderBy: { seriesNumber: 'asc', createdAt: 'asc' } },
    );
  }

  async instancesOfSeries(seriesIds: readonly string[]): Promise<Instance[]> {
    return this.em.find(
      Instance,
      { seriesId: { $in: [...seriesIds] } },
      { orderBy: { instanceNumber: 'asc', createdAt: 'asc' } },
    );
  }

  async instances(
    studyId: string,
    filter: { seriesUid?: string; sopInstanceUid?: string } = {},
  ): Promise<Instance[]> {
    const where: Record<string, unknown> = { studyId };
    if (filter.seriesUid) {
      const s = await this.em.findOne(Series, { studyId, seriesUid: filter.seriesUid });
      if (!s) return [];
      where.seriesId = s.id;
    }
    if (filter.sopInstanceUid) where.sopInstanceUid = filter.sopInstanceUid;
    return this.em.find(Instance, where, { orderBy: { instanceNumber: 'asc', createdAt: 'asc' } });
  }

  /**
   * The study's instances in the viewer's display order: series by SeriesNumber (missing counts as 0, ties in
   * QIDO-RS order), each series in slice order. Its first element is the image the viewer opens on.
   */
  async displayOrder(studyId: string): Promise<Instance[]> {
    const series = await this.series([studyId]);
    const bySeries = new Map<string, Instance[]>();
    for (const i of await this.instancesOfSeries(series.map((s) => s.id))) {
      const list = bySeries.get(i.seriesId) ?? [];
      list.push(i);
      bySeries.set(i.seriesId, list);
    }
    const ordered = [...series].sort((a, b) => (a.seriesNumber ?? 0) - (b.seriesNumber ?? 0));
    return ordered.flatMap((s) =>
      sliceOrder(
        (bySeries.get(s.id) ?? []).map((i) => ({
          i,
          instanceNumber: i.instanceNumber ?? null,
          frames: i.numberOfFrames ?? 1,
          position: dsVector(i.imagePositionPatient, 3),
          orientation: dsVector(i.imageOrientationPatient, 6),
        })),
      ).map((x) => x.i),
    );
  }

  dataKey(study: Study): Buffer | null {
    if (!study.wrappedKey || !study.kekId) return null;
    return this.rt.keys.unwrap(study.kekId, study.wrappedKey, study.id);
  }

  /** The patient identity of a study; only for access carrying identity; writes an audit event. */
  async identity(actor: Actor, a: StudyAccess): Promise<PhiRecord | null> {
    if (!a.withIdentity || !a.study.phiSealed) return null;
    const key = this.dataKey(a.study);
    if (!key) return null;
    const phi = JSON.parse(open(key, a.study.phiSealed, `phi:${a.study.id}`).toString('utf8')) as PhiRecord;
    new AuditService(this.em).record(actor, 'study.phi.read', `study:${a.study.id}`, { via: a.role });
    await this.em.flush();
    return phi;
  }

  /** The encoded identity record of an instance, or null when it has none. */
  identityRecord(study: Study, inst: Instance): Buffer | null {
    if (!inst.identitySealed) return null;
    const key = this.dataKey(study);
    if (!key) return null;
    return open(key, inst.identitySealed, `id:${inst.id}`);
  }

  /**
   * Soft delete (owner only): the study disappears for everyone at once; objects no other live study holds leave
   * the spool and get a delete job. Returns how many objects were released.
   */
  async softDelete(actor: Actor, userId: string, studyId: string): Promise<number> {
    const study = await this.requireOwner(userId, studyId);
    study.deletedAt = new Date();
    new AuditService(this.em).record(actor, 'study.delete', `study:${study.id}`);
    await this.em.flush();
    // Objects no live study refers to any more: out of the spool, and a delete job for their replicas.
    const orphans = (await this.em.getConnection().execute(
      `select distinct i.object_sha256 as sha from study_instance i where i.study_id = ? and not exists (
         select 1 from study_instance j join study s on s.id = j.study_id
          where j.object_sha256 = i.object_sha256 and s.deleted_at is null)`,
      [study.id],
    )) as { sha: string }[];
    for (const o of orphans) {
      await unlink(this.rt.spoolPath(o.sha)).catch(() => undefined);
      await this.rt.storage?.deleteObject(o.sha).catch(() => undefined);
    }
    return orphans.length;
  }
}

const STUDY_COLUMNS = `s.id, s.study_uid, s.owner_id, (extract(epoch from s.created_at) * 1000)::float8 as created_ms,
  (extract(epoch from s.updated_at) * 1000)::float8 as updated_ms, s.deleted_at is not null as deleted, s.modalities,
  s.study_date, s.description, s.series_count, s.instance_count, s.total_bytes, s.has_identity, s.kek_id,
  s.wrapped_key, s.phi_sealed`;

interface StudyRow {
  id: string;
  study_uid: string;
  owner_id: string;
  created_ms: number;
  updated_ms: number;
  deleted: boolean;
  modalities: string;
  study_date: string | null;
  description: string | null;
  series_count: number;
  instance_count: number;
  total_bytes: string | number;
  has_identity: boolean;
  kek_id: string | null;
  wrapped_key: Buffer | null;
  phi_sealed: Buffer | null;
}

/** A read-only Study from a raw row (same shape as the entity; never persisted through the ORM). */
function studyOfRow(r: StudyRow): Study {
  return {
    id: r.id,
    studyUid: r.study_uid,
    ownerId: r.owner_id,
    createdAt: new Date(r.created_ms),
    updatedAt: new Date(r.updated_ms),
    deletedAt: r.deleted ? new Date() : null,
    modalities: r.modalities,
    studyDate: r.study_date,
    description: r.description,
    seriesCount: r.series_count,
    instanceCount: r.instance_count,
    totalBytes: Number(r.total_bytes),
    hasIdentity: r.has_identity,
    kekId: r.kek_id,
    wrappedKey: r.wrapped_key,
    phiSealed: r.phi_sealed,
  } as unknown as Study;
}

function dateArg(s: string): string {
  const d = s.replace(/-/g, '');
  if (!/^\d{8}$/.test(d)) throw new DomainError('BAD_USER_INPUT', 'dates are YYYY-MM-DD or YYYYMMDD');
  return d;
}

function encodeCursor(n: number): string {
  return Buffer.from(`o:${n}`).toString('base64url');
}

function decodeCursor(c?: string | null): number {
  if (!c) return 0;
  const m = /^o:(\d{1,9})$/.exec(Buffer.from(c, 'base64url').toString('utf8'));
  if (!m) throw new DomainError('BAD_USER_INPUT', 'invalid cursor');
  return Number(m[1]);
}
