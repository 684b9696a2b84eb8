import { defineEntity, p } from '@mikro-orm/core';

/**
 * A study as one owner holds it. UIDs are the de-identified ones (`2.25.…`); patient identity lives only in
 * `phiSealed` (AES-256-GCM under the study's data key, itself wrapped by the KEK) and as blind-index digests
 * (`StudyBlindIndex`). Studies that arrived de-identified from a gateway have no identity at all.
 */
export const StudySchema = defineEntity({
  name: 'Study',
  tableName: 'study',
  properties: {
    id: p.uuid().primary(),
    studyUid: p.string().length(64).index(),
    ownerId: p.uuid().index(),
    createdAt: p.datetime().defaultRaw('now()').index(),
    updatedAt: p.datetime().defaultRaw('now()'),
    deletedAt: p.datetime().nullable().index(),
    /** Modalities in the study, backslash-separated (as in ModalitiesInStudy). */
    modalities: p.string().length(64).default('').index(),
    /** Study date (YYYYMMDD) of the original, for range filters. */
    studyDate: p.string().length(8).nullable().index(),
    description: p.string().length(128).nullable(),
    seriesCount: p.integer().default(0),
    instanceCount: p.integer().default(0),
    totalBytes: p.bigint('number').default(0),
    /** True when the study carries an identity (uploaded here); false for gateway-de-identified studies. */
    hasIdentity: p.boolean().default(false),
    kekId: p.string().length(16).nullable(),
    /** The study's data key, wrapped by the KEK `kekId`. */
    wrappedKey: p.blob().nullable(),
    /** Sealed JSON: patient name, ID, issuer, birth date, sex, accession number, original study UID. */
    phiSealed: p.blob().nullable(),
  },
  uniques: [{ properties: ['ownerId', 'studyUid'] }],
  indexes: [{ properties: ['ownerId', 'createdAt'] }],
});
export class Study extends StudySchema.class {}
StudySchema.setClass(Study);

/** Blind-index digests for identity search: `name` (one per name word) or `pid` (the patient ID). */
export const StudyBlindIndexSchema = defineEntity({
  name: 'StudyBlindIndex',
  tableName: 'study_blind_index',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    studyId: p.uuid().index(),
    kind: p.string().length(8),
    digest: p.string().length(32),
  },
  uniques: [{ properties: ['studyId', 'kind', 'digest'] }],
  indexes: [{ properties: ['kind', 'digest'] }],
});
export class StudyBlindIndex extends StudyBlindIndexSchema.class {}
StudyBlindIndexSchema.setClass(StudyBlindIndex);

export const SeriesSchema = defineEntity({
  name: 'Series',
  tableName: 'study_series',
  properties: {
    id: p.uuid().primary(),
    studyId: p.uuid().index(),
    seriesUid: p.string().length(64).index(),
    modality: p.string().length(16).nullable(),
    seriesNumber: p.integer().nullable(),
    description: p.string().length(128).nullable(),
    instanceCount: p.integer().default(0),
    totalBytes: p.bigint('number').default(0),
    createdAt: p.datetime().defaultRaw('now()'),
  },
  uniques: [{ properties: ['studyId', 'seriesUid'] }],
});
export class Series extends SeriesSchema.class {}
SeriesSchema.setClass(Series);

/**
 * One SOP instance. `objectSha256` names the de-identified object (spool file, later the SE object);
 * `identitySealed` is the encoded identity record sealed under the study's data key (absent for gateway data).
 */
export const InstanceSchema = defineEntity({
  name: 'Instance',
  tableName: 'study_instance',
  properties: {
    id: p.uuid().primary(),
    studyId: p.uuid().index(),
    seriesId: p.uuid().index(),
    sopInstanceUid: p.string().length(64).index(),
    sopClassUid: p.string().length(64),
    instanceNumber: p.integer().nullable(),
    transferSyntaxUid: p.string().length(64),
    rows: p.integer().nullable(),
    columns: p.integer().nullable(),
    numberOfFrames: p.integer().nullable(),
    /** DS strings as sent (not identifying): viewers order slices along the normal, not by InstanceNumber. */
    imagePositionPatient: p.string().length(128).nullable(),
    imageOrientationPatient: p.string().length(128).nullable(),
    size: p.bigint('number'),
    objectSha256: p.string().length(64).index(),
    originalSha256: p.string().length(64).nullable(),
    originalSize: p.bigint('number').nullable(),
    identitySealed: p.blob().nullable(),
    /** `spooled` until the worker has stored it; then `stored`. */
    storageState: p.string().length(16).default('spooled'),
    createdAt: p.datetime().defaultRaw('now()'),
  },
  uniques: [{ properties: ['studyId', 'sopInstanceUid'] }],
});
export class Instance extends InstanceSchema.class {}
InstanceSchema.setClass(Instance);

export const SHARE_KINDS = ['user', 'link', 'patient'] as const;
export type ShareKind = (typeof SHARE_KINDS)[number];

/**
 * A share of a study. `user`: to a named doctor (its grant is created at once). `link` and `patient`: a
 * capability token (only its SHA-256 is stored) with an expiry and an optional use limit; redeeming creates
 * a grant. Revoking a share ends every grant made from it.
 */
export const ShareSchema = defineEntity({
  name: 'Share',
  tableName: 'study_share',
  properties: {
    id: p.uuid().primary(),
    studyId: p.uuid().index(),
    kind: p.enum(SHARE_KINDS),
    withIdentity: p.boolean(),
    createdBy: p.uuid(),
    createdAt: p.datetime().defaultRaw('now()'),
    granteeUserId: p.uuid().nullable().index(),
    tokenHash: p.string().length(64).nullable().unique(),
    expiresAt: p.datetime().nullable(),
    maxUses: p.integer().nullable(),
    uses: p.integer().default(0),
    revokedAt: p.datetime().nullable(),
  },
});
export class Share extends ShareSchema.class {}
ShareSchema.setClass(Share);

/** A doctor's access to a study through a share. */
export const GrantSchema = defineEntity({
  name: 'Grant',
  tableName: 'study_grant',
  properties: {
    id: p.uuid().primary(),
    studyId: p.uuid().index(),
    userId: p.uuid().index(),
    shareId: p.uuid().index(),
    withIdentity: p.boolean(),
    createdAt: p.datetime().defaultRaw('now()'),
    revokedAt: p.datetime().nullable(),
  },
  uniques: [{ properties: ['shareId', 'userId'] }],
});
export class Grant extends GrantSchema.class {}
GrantSchema.setClass(Grant);

export const studyEntities = [Study, StudyBlindIndex, Series, Instance, Share, Grant];
