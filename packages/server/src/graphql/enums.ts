import { registerEnumType } from 'type-graphql';
import { REVOCATION_REASONS } from '../identity/ca/index.js';
import { CERTIFICATE_STATUSES } from '../identity/certificates/certificate.service.js';
import { MEMBERSHIP_STATUSES, VO_ROLES } from '../vo/vo.entities.js';

const upper = (s: string) =>
  s
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toUpperCase();
function enumOf<T extends string>(values: readonly T[]): Record<string, T> {
  return Object.fromEntries(values.map((v) => [upper(v), v])) as Record<string, T>;
}

export const VoRoleEnum = enumOf(VO_ROLES);
registerEnumType(VoRoleEnum, { name: 'VoRole', description: 'Role inside a VO group.' });

export const MembershipStatusEnum = enumOf(MEMBERSHIP_STATUSES);
registerEnumType(MembershipStatusEnum, { name: 'MembershipStatus' });

export const CertificateStatusEnum = enumOf(CERTIFICATE_STATUSES);
registerEnumType(CertificateStatusEnum, {
  name: 'CertificateStatus',
  description: 'valid; expiring (ends within 30 days); expired; revoked.',
});

export const RevocationReasonEnum = enumOf(
  Object.keys(REVOCATION_REASONS) as (keyof typeof REVOCATION_REASONS)[],
);
registerEnumType(RevocationReasonEnum, { name: 'RevocationReason', description: 'RFC 5280 CRLReason.' });

export const AccessStateEnum = enumOf(['active', 'aup-required', 'inactive'] as const);
registerEnumType(AccessStateEnum, { name: 'AccessState' });
