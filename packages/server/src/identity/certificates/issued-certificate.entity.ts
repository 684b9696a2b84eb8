import { defineEntity, p } from '@mikro-orm/core';

/** Every end-entity certificate the MedGrid CA issued, with its revocation state. */
export const IssuedCertificateSchema = defineEntity({
  name: 'IssuedCertificate',
  tableName: 'issued_certificate',
  properties: {
    id: p.uuid().primary(),
    /** Lowercase hex without leading zero octets (normaliseSerialHex). */
    serialHex: p.string().length(64).unique(),
    userId: p.uuid().index(),
    profile: p.enum(['client', 'service', 'server'] as const),
    subject: p.string().length(512).index(),
    notBefore: p.datetime(),
    notAfter: p.datetime().index(),
    fingerprintSha256: p.string().length(64).unique(),
    pem: p.text(),
    issuedAt: p.datetime().defaultRaw('now()'),
    /** Certificate this one renews, if any. */
    renewsSerialHex: p.string().length(64).nullable(),
    revokedAt: p.datetime().nullable().index(),
    /** RFC 5280 CRLReason name (keyCompromise, superseded, ...). */
    revocationReason: p.string().length(32).nullable(),
  },
});

export class IssuedCertificate extends IssuedCertificateSchema.class {}
IssuedCertificateSchema.setClass(IssuedCertificate);
