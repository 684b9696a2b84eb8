import { defineEntity, p } from '@mikro-orm/core';

/**
 * One instance received by the gateway. Holds PHI (names, ids, dates) and the encoded identity record
 * needed to restore the original bytes: this table lives only in the hospital's vault database.
 * The upload columns are the durable backlog for STOW-RS to the central server.
 */
export const VaultInstanceSchema = defineEntity({
  name: 'VaultInstance',
  tableName: 'vault_instance',
  properties: {
    sopInstanceUid: p.string().length(64).primary(),
    sopClassUid: p.string().length(64),
    studyInstanceUid: p.string().length(64).index(),
    seriesInstanceUid: p.string().length(64).index(),
    patientId: p.text().nullable().index(),
    patientName: p.text().nullable(),
    patientBirthDate: p.text().nullable(),
    patientSex: p.text().nullable(),
    studyDate: p.text().nullable(),
    studyTime: p.text().nullable(),
    studyDescription: p.text().nullable(),
    accessionNumber: p.text().nullable(),
    studyId: p.text().nullable(),
    referringPhysicianName: p.text().nullable(),
    modality: p.text().nullable(),
    seriesNumber: p.text().nullable(),
    seriesDescription: p.text().nullable(),
    instanceNumber: p.text().nullable(),
    transferSyntaxUid: p.string().length(64),
    deidSopInstanceUid: p.string().length(64).unique(),
    deidStudyInstanceUid: p.string().length(64).nullable(),
    deidSeriesInstanceUid: p.string().length(64).nullable(),
    sha256: p.string().length(64),
    size: p.bigint('number'),
    identity: p.blob(),
    callingAe: p.string().length(16).nullable(),
    cacheRef: p.string().length(128).nullable(),
    receivedAt: p.datetime().defaultRaw('now()'),
    uploadState: p.string().length(16).default('pending').index(),
    uploadAttempts: p.integer().default(0),
    nextUploadAt: p.datetime().defaultRaw('now()'),
    uploadedAt: p.datetime().nullable(),
    lastUploadError: p.string().length(512).nullable(),
  },
});

export class VaultInstance extends VaultInstanceSchema.class {}
VaultInstanceSchema.setClass(VaultInstance);
