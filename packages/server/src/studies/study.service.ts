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
    const rows = (await this.em.getConnection().execute(
      `select s.id from study s where ${where.join(' and ')} order by ${SORT_SQL[f.sort ?? 'created-desc']}
        limit ? offset ?`,
      [...params, first + 1, offset],
    )) as { id: string }[];
    const ids = rows.slice(0, first).map((r) => r.id);
    const studies = ids.length ? await this.em.find(Study, { id: { $in: ids } }) : [];
    const byId = new Map(studies.map((s) => [s.id, s]));
    return {
      items: ids.map((id, i) => ({ study: byId.get(id)!, cursor: encodeCursor(offset + i + 1) })),
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

  /** Soft delete (owner only). The delete jobs for the objects follow once the worker's tables are wired. */
  async softDelete(actor: Actor, userId: string, studyId: string): Promise<void> {
    const study = await this.requireOwner(userId, studyId);
    study.deletedAt = new Date();
    new AuditService(this.em).record(actor, 'study.delete', `study:${study.id}`);
    await this.em.flush();
  }
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
