import { randomUUID } from 'node:crypto';
import { mkdir, open as openFile, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  actionForTag,
  BASIC_PROFILE,
  type DeidProfile,
  deidentify,
  encodeIdentity,
  findElement,
  isDicomError,
  type ParsedDicom,
  parseDicom,
  profileByName,
  type QueryAttributes,
  queryAttributesOf,
  readString,
} from '@medgrid/dicom';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../audit/audit.service.js';
import { AuditService } from '../audit/audit.service.js';
import { seal, sha256Hex } from '../crypto/envelope.js';
import { uuidv7 } from '../identity/ids.util.js';
import type { StudiesRuntime } from './studies.runtime.js';
import { publishProgress } from './study-events.js';

/** DICOM status codes used in STOW-RS responses (PS3.4 / PS3.18). */
export const STOW_STATUS = {
  processingFailure: 0x0110,
  duplicateSopInstance: 0x0111,
  sopClassNotSupported: 0x0122,
  outOfResources: 0xa700,
  dataSetMismatch: 0xa900,
  cannotUnderstand: 0xc000,
} as const;

export type InstanceOutcome =
  | {
      ok: true;
      /** True when this SOP instance was already stored for this owner (idempotent re-upload). */
      duplicate: boolean;
      studyId: string;
      studyUid: string;
      seriesUid: string;
      sopInstanceUid: string;
      sopClassUid: string;
      /** The SOP Instance UID as sent (original for identified uploads). */
      sentSopInstanceUid: string;
      withIdentity: boolean;
      /** What de-identification did to this instance (shown to the uploader). */
      deid?: DeidReport;
    }
  | {
      ok: false;
      status: number;
      reason: string;
      sopClassUid?: string;
      sentSopInstanceUid?: string;
    };

/** What de-identification did to one uploaded instance: counts per action and the burned-in-text warning. */
export interface DeidReport {
  /** The instance arrived de-identified (PatientIdentityRemoved YES and it passed the check): left as sent. */
  alreadyDeidentified: boolean;
  removed: number;
  emptied: number;
  replaced: number;
  cleaned: number;
  uidsReplaced: number;
  /** The pixels may show identifying text (BurnedInAnnotation YES, or a modality/SOP class that often does). */
  burnedInTextRisk: boolean;
  burnedInReason: string | null;
}

export interface PhiRecord {
  patientName?: string;
  patientId?: string;
  issuerOfPatientId?: string;
  patientBirthDate?: string;
  patientSex?: string;
  accessionNumber?: string;
  studyInstanceUid?: string;
  studyId?: string;
  referringPhysicianName?: string;
}

const TAG_IDENTITY_REMOVED = 0x00120062;
const TAG_DEID_METHOD = 0x00120063;

/**
 * Checks an instance that says it is already de-identified (PatientIdentityRemoved=YES): no attribute that
 * its profile removes (action X, including private elements) may be present. The profile is the MedGrid one
 * named in DeidentificationMethod, or the basic profile. Returns the reason for refusal, or null.
 */
export function deidentifiedCheck(p: ParsedDicom): string | null {
  const method = findElement(p.elements, TAG_DEID_METHOD);
  const m = method ? /^MedGrid (\S+) v/.exec(readString(p.data, method)) : null;
  const profile: DeidProfile = (m && profileByName(m[1]!)) || BASIC_PROFILE;
  for (const el of p.elements) {
    if (el.tag >>> 16 === 0x0002 || el.tag === TAG_IDENTITY_REMOVED || el.tag === TAG_DEID_METHOD) continue;
    const a = actionForTag(el.tag, profile.options);
    if (a?.action === 'X' && (el.valueLength > 0 || el.items?.length)) {
      return `PatientIdentityRemoved is YES but (${hex(el.tag)}) is present, which the ${profile.name} profile removes`;
    }
  }
  return null;
}

/**
 * Descriptions are kept in plaintext for search, so the patient's own identifying values (name words, ID,
 * birth date, accession number) are masked in them first, as the dicom package does under Clean Descriptors.
 */
export function maskIdentity(text: string | undefined, q: QueryAttributes): string {
  let out = (text ?? '').trim();
  if (!out) return '';
  const values = [
    ...(q.patientName ?? '').split(/[\^=\s,]+/),
    q.patientId,
    q.patientBirthDate,
    q.accessionNumber,
  ]
    .map((v) => (v ?? '').trim())
    .filter((v) => v.length >= 2)
    .sort((a, b) => b.length - a.length);
  for (const v of values) {
    const re = new RegExp(v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
    out = out.replace(re, (m) => '*'.repeat(m.length));
  }
  return out.replace(/\d{5,}/g, (m) => '*'.repeat(m.length));
}

function hex(tag: number): string {
  const h = tag.toString(16).toUpperCase().padStart(8, '0');
  return `${h.slice(0, 4)},${h.slice(4)}`;
}

function intOf(s: string | undefined): number | null {
  if (!s) return null;
  const n = Number.parseInt(s.trim(), 10);
  return Number.isFinite(n) && Math.abs(n) < 2 ** 31 ? n : null;
}

/** A DS vector of exactly `n` finite numbers, re-joined with backslashes; anything else is not kept. */
function geometryOf(s: string | undefined, n: number): string | null {
  if (!s) return null;
  const v = s.split('\\').map((x) => (x.trim() === '' ? Number.NaN : Number(x)));
  if (v.length !== n || v.some((x) => !Number.isFinite(x))) return null;
  const out = v.join('\\');
  return out.length <= 128 ? out : null;
}

/** Writes a spool file atomically (temp name, fsync, rename) unless one with the same content exists. */
async function spool(rt: StudiesRuntime, sha: string, bytes: Buffer): Promise<void> {
  const file = rt.spoolPath(sha);
  try {
    const st = await stat(file);
    if (st.size === bytes.length) return;
  } catch {
    // not there yet
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${randomUUID()}.tmp`;
  const fh = await openFile(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

/**
 * Web/API ingest of one instance: parse, de-identify with the deployment secret (or check a gateway's
 * de-identification), spool the de-identified object under its SHA-256, and record study, series and
 * instance with the identity sealed under the study's data key.
 */
export class IngestService {
  constructor(
    private readonly em: EntityManager,
    private readonly rt: StudiesRuntime,
  ) {}

  /**
   * `gateway`: the sender is a gateway, whose objects must already be de-identified (PatientIdentityRemoved
   * YES and nothing its profile removes) and are refused otherwise. From anyone else, an object claiming
   * de-identification that fails the check is de-identified here like any other.
   */
  async ingest(
    actor: Actor,
    ownerId: string,
    bytes: Buffer,
    opts: { gateway?: boolean } = {},
  ): Promise<InstanceOutcome> {
    let parsed: ParsedDicom;
    try {
      parsed = parseDicom(bytes);
    } catch (err) {
      return {
        ok: false,
        status: STOW_STATUS.cannotUnderstand,
        reason: isDicomError(err) ? `${err.code}: ${err.message}` : 'not a DICOM object',
      };
    }
    const sent = queryAttributesOf(parsed);
    const base = { sopClassUid: sent.sopClassUid, sentSopInstanceUid: sent.sopInstanceUid };
    if (!sent.sopInstanceUid || !sent.sopClassUid || !sent.studyInstanceUid || !sent.seriesInstanceUid) {
      return {
        ok: false,
        status: STOW_STATUS.dataSetMismatch,
        reason: 'SOP Class, SOP Instance, Study or Series Instance UID missing',
        ...base,
      };
    }
    const removed = findElement(parsed.elements, TAG_IDENTITY_REMOVED);
    const claimsDeid = !!removed && readString(parsed.data, removed).toUpperCase() === 'YES';
    const why = claimsDeid ? deidentifiedCheck(parsed) : 'PatientIdentityRemoved is not YES';
    if (why && opts.gateway) return { ok: false, status: STOW_STATUS.dataSetMismatch, reason: why, ...base };
    const alreadyDeid = why === null;
    let deidBytes: Buffer;
    let attrs: QueryAttributes;
    let identity: Buffer | null = null;
    let phi: PhiRecord | null = null;
    let deid: DeidReport = {
      alreadyDeidentified: true,
      removed: 0,
      emptied: 0,
      replaced: 0,
      cleaned: 0,
      uidsReplaced: 0,
      burnedInTextRisk: false,
      burnedInReason: null,
    };
    if (alreadyDeid) {
      deidBytes = bytes;
      attrs = sent;
    } else {
      try {
        const r = deidentify(bytes, { profile: BASIC_PROFILE, secret: this.rt.deidSecret });
        deidBytes = r.deidentified;
        identity = encodeIdentity(r.identity);
        const a = r.summary.actions;
        deid = {
          alreadyDeidentified: false,
          removed: a.X,
          emptied: a.Z,
          replaced: a.D,
          cleaned: a.C,
          uidsReplaced: a.U,
          burnedInTextRisk: r.summary.burnedInTextRisk,
          burnedInReason: r.summary.burnedInReason ?? null,
        };
        attrs = queryAttributesOf(parseDicom(deidBytes));
      } catch (err) {
        return {
          ok: false,
          status: STOW_STATUS.cannotUnderstand,
          reason: isDicomError(err) ? `${err.code}: ${err.message}` : 'de-identification failed',
          ...base,
        };
      }
      phi = {
        patientName: sent.patientName,
        patientId: sent.patientId,
        issuerOfPatientId: sent.issuerOfPatientId,
        patientBirthDate: sent.patientBirthDate,
        patientSex: sent.patientSex,
        accessionNumber: sent.accessionNumber,
        studyInstanceUid: sent.studyInstanceUid,
        studyId: sent.studyId,
        referringPhysicianName: sent.referringPhysicianName,
      };
    }
    const sha = sha256Hex(deidBytes);
    try {
      await spool(this.rt, sha, deidBytes);
    } catch {
      return { ok: false, status: STOW_STATUS.outOfResources, reason: 'could not write the spool', ...base };
    }
    // Descriptive attributes come from the original: the basic profile removes them from the object.
    const recorded = await this.record(actor, ownerId, bytes, {
      parsed,
      sent,
      attrs,
      deidBytes,
      identity,
      phi,
      sha,
    });
    const outcome: InstanceOutcome = recorded.ok ? { ...recorded, deid } : recorded;
    if (outcome.ok) {
      publishProgress({
        ownerId,
        studyId: outcome.studyId,
        sopInstanceUid: outcome.sopInstanceUid,
        state: outcome.duplicate ? 'duplicate' : 'ingested',
        at: new Date(),
      });
    }
    const requeue =
      outcome.ok &&
      outcome.duplicate &&
      !!this.rt.storage &&
      (
        (await this.em
          .getConnection()
          .execute(
            "select 1 from study_instance where object_sha256 = ? and storage_state = 'spooled' limit 1",
            [sha],
          )) as unknown[]
      ).length > 0;
    if (outcome.ok && (!outcome.duplicate || requeue) && this.rt.storage) {
      // Queue the store job; if the queue is unreachable the instance stays `spooled` (served from the spool)
      // and is queued again when the same object is re-sent.
      try {
        await this.rt.storage.ingest(this.rt.spoolPath(sha));
        await this.em
          .getConnection()
          .execute(
            "update study_instance set storage_state = 'queued' where object_sha256 = ? and storage_state = 'spooled'",
            [sha],
          );
        publishProgress({
          ownerId,
          studyId: outcome.studyId,
          sopInstanceUid: outcome.sopInstanceUid,
          state: 'queued',
          at: new Date(),
        });
      } catch {
        // left `spooled`
      }
    }
    return outcome;
  }

  private async record(
    actor: Actor,
    ownerId: string,
    bytes: Buffer,
    v: {
      parsed: ParsedDicom;
      sent: QueryAttributes;
      attrs: QueryAttributes;
      deidBytes: Buffer;
      identity: Buffer | null;
      phi: PhiRecord | null;
      sha: string;
    },
  ): Promise<InstanceOutcome> {
    const { sent, attrs, deidBytes, identity, phi, sha } = v;
    const base = { sopClassUid: sent.sopClassUid, sentSopInstanceUid: sent.sopInstanceUid };
    const studyUid = attrs.studyInstanceUid!;
    const seriesUid = attrs.seriesInstanceUid!;
    const sopUid = attrs.sopInstanceUid!;
    const studyDate = /^\d{8}$/.test(sent.studyDate ?? '') ? sent.studyDate! : null;
    const description = maskIdentity(sent.studyDescription, sent).slice(0, 128) || null;
    const seriesDescription = maskIdentity(sent.seriesDescription, sent).slice(0, 128) || null;
    const modality = (sent.modality ?? '').slice(0, 16) || null;
    return this.em.transactional(async (tx): Promise<InstanceOutcome> => {
      const conn = tx.getConnection();
      const ctx = tx.getTransactionContext();
      const run = <T>(sql: string, params: unknown[]) =>
        conn.execute(sql, params, 'all', ctx) as Promise<T[]>;
      await run(
        `insert into study (id, study_uid, owner_id, created_at, updated_at, modalities, study_date, description)
         values (?, ?, ?, now(), now(), '', ?, ?) on conflict (owner_id, study_uid) do nothing`,
        [uuidv7(), studyUid, ownerId, studyDate, description],
      );
      const [study] = await run<{
        id: string;
        has_identity: boolean;
        kek_id: string | null;
        wrapped_key: Buffer | null;
        modalities: string;
        deleted_at: Date | null;
      }>(
        `select id, has_identity, kek_id, wrapped_key, modalities, deleted_at from study
          where owner_id = ? and study_uid = ? for update`,
        [ownerId, studyUid],
      );
      const studyId = study!.id;
      const existing = await run<{ id: string; object_sha256: string; original_sha256: string | null }>(
        'select id, object_sha256, original_sha256 from study_instance where study_id = ? and sop_instance_uid = ?',
        [studyId, sopUid],
      );
      const incoming = identity ? sha256Hex(bytes) : null;
      if (existing.length && (existing[0]!.original_sha256 ?? null) !== incoming) {
        return {
          ok: false as const,
          status: STOW_STATUS.duplicateSopInstance,
          reason: 'a different object with this SOP Instance UID is already stored',
          ...base,
        };
      }
      if (existing.length && !identity && existing[0]!.object_sha256 !== sha) {
        return {
          ok: false as const,
          status: STOW_STATUS.duplicateSopInstance,
          reason: 'a different object with this SOP Instance UID is already stored',
          ...base,
        };
      }
      const outcome = {
        ok: true as const,
        studyId,
        studyUid,
        seriesUid,
        sopInstanceUid: sopUid,
        sopClassUid: attrs.sopClassUid!,
        sentSopInstanceUid: sent.sopInstanceUid!,
        withIdentity: identity !== null,
      };
      if (existing.length) {
        if (study!.deleted_at) await run('update study set deleted_at = null where id = ?', [studyId]);
        return { ...outcome, duplicate: true };
      }
      let dataKey: Buffer | null = null;
      if (identity) {
        if (study!.wrapped_key && study!.kek_id) {
          dataKey = this.rt.keys.unwrap(study!.kek_id, study!.wrapped_key, studyId);
        } else {
          dataKey = this.rt.keys.newDataKey();
          const w = this.rt.keys.wrap(dataKey, studyId);
          await run('update study set kek_id = ?, wrapped_key = ? where id = ?', [
            w.kekId,
            w.wrapped,
            studyId,
          ]);
        }
        if (!study!.has_identity && phi) {
          await run('update study set has_identity = true, phi_sealed = ? where id = ?', [
            seal(dataKey, Buffer.from(JSON.stringify(phi)), `phi:${studyId}`),
            studyId,
          ]);
          const digests: [string, string][] = [];
          if (phi.patientName)
            for (const d of this.rt.blind.nameTokens(phi.patientName)) digests.push(['name', d]);
          if (phi.patientId) digests.push(['pid', this.rt.blind.idToken(phi.patientId)]);
          for (const [kind, digest] of digests) {
            await run(
              'insert into study_blind_index (study_id, kind, digest) values (?, ?, ?) on conflict do nothing',
              [studyId, kind, digest],
            );
          }
        }
      }
      await run(
        `insert into study_series (id, study_id, series_uid, modality, series_number, description, created_at)
         values (?, ?, ?, ?, ?, ?, now()) on conflict (study_id, series_uid) do nothing`,
        [uuidv7(), studyId, seriesUid, modality, intOf(sent.seriesNumber), seriesDescription],
      );
      const [series] = await run<{ id: string; instance_count: number }>(
        'select id, instance_count from study_series where study_id = ? and series_uid = ? for update',
        [studyId, seriesUid],
      );
      const instanceId = uuidv7();
      await run(
        `insert into study_instance (id, study_id, series_id, sop_instance_uid, sop_class_uid, instance_number,
           transfer_syntax_uid, rows, columns, number_of_frames, image_position_patient,
           image_orientation_patient, size, object_sha256, original_sha256, original_size, identity_sealed,
           storage_state, created_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'spooled', now())`,
        [
          instanceId,
          studyId,
          series!.id,
          sopUid,
          attrs.sopClassUid,
          intOf(sent.instanceNumber),
          attrs.transferSyntaxUid,
          sent.rows ?? null,
          sent.columns ?? null,
          intOf(sent.numberOfFrames),
          geometryOf(sent.imagePositionPatient, 3),
          geometryOf(sent.imageOrientationPatient, 6),
          deidBytes.length,
          sha,
          incoming,
          identity ? bytes.length : null,
          identity && dataKey ? seal(dataKey, identity, `id:${instanceId}`) : null,
        ],
      );
      await run(
        'update study_series set instance_count = instance_count + 1, total_bytes = total_bytes + ? where id = ?',
        [deidBytes.length, series!.id],
      );
      const mods = new Set(study!.modalities ? study!.modalities.split('\\') : []);
      if (modality) mods.add(modality);
      await run(
        `update study set instance_count = instance_count + 1, total_bytes = total_bytes + ?,
           series_count = (select count(*) from study_series where study_id = ?), modalities = ?,
           updated_at = now(), deleted_at = null where id = ?`,
        [deidBytes.length, studyId, [...mods].sort().join('\\').slice(0, 64), studyId],
      );
      new AuditService(tx).record(actor, 'study.ingest', `study:${studyId}`, {
        sopInstanceUid: sopUid,
        object: sha,
        withIdentity: identity !== null,
      });
      return { ...outcome, duplicate: false };
    });
  }
}
