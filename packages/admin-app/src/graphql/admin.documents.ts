import { gql } from '@urql/core';

// Hand-typed from the server's schema (introspection in development); keep in step with the identity API
// (packages/server/src/identity/README.md).
export type CertificateStatus = 'VALID' | 'EXPIRING' | 'EXPIRED' | 'REVOKED';
export type MembershipStatus = 'REQUESTED' | 'APPROVED' | 'REJECTED' | 'ACTIVE' | 'SUSPENDED' | 'EXPIRED';
export type VoRole = 'DOCTOR' | 'GROUP_MANAGER' | 'VO_ADMIN' | 'CA_OPERATOR' | 'GATEWAY';
export const REVOCATION_REASONS = [
  'UNSPECIFIED',
  'KEY_COMPROMISE',
  'AFFILIATION_CHANGED',
  'SUPERSEDED',
  'CESSATION_OF_OPERATION',
  'PRIVILEGE_WITHDRAWN',
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];
export const VO_ROLES: VoRole[] = ['DOCTOR', 'GROUP_MANAGER', 'VO_ADMIN', 'CA_OPERATOR', 'GATEWAY'];

interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}
interface Connection<T> {
  edges: { node: T }[];
  pageInfo: PageInfo;
}

export interface Certificate {
  serial: string;
  subject: string;
  profile: string;
  userId: string;
  notBefore: string;
  notAfter: string;
  status: CertificateStatus;
  issuedAt: string;
  revokedAt: string | null;
  revocationReason: string | null;
}
const certificateFields = `serial subject profile userId notBefore notAfter status issuedAt revokedAt revocationReason`;

export const CertificatesQuery = gql<
  { certificates: Connection<Certificate> },
  { status?: CertificateStatus | null; userId?: string | null; first: number; after?: string | null }
>`
  query Certificates($status: CertificateStatus, $userId: String, $first: Int, $after: String) {
    certificates(status: $status, userId: $userId, first: $first, after: $after) {
      edges { node { ${certificateFields} } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export interface CrlStatus {
  crlNumber: string;
  thisUpdate: string;
  nextUpdate: string;
  revokedCount: number;
  pemUrl: string;
  derUrl: string;
}
export const CrlStatusQuery = gql<{ crlStatus: CrlStatus }, Record<string, never>>`
  query CrlStatus {
    crlStatus { crlNumber thisUpdate nextUpdate revokedCount pemUrl derUrl }
  }
`;

export interface User {
  id: string;
  kind: string;
  name: string;
  facility: string;
  email: string | null;
}
export const UsersQuery = gql<
  { users: Connection<User> },
  {
    search?: string | null;
    facility?: string | null;
    kind?: 'person' | 'service' | null;
    first: number;
    after?: string | null;
  }
>`
  query Users($search: String, $facility: String, $kind: String, $first: Int, $after: String) {
    users(search: $search, facility: $facility, kind: $kind, first: $first, after: $after) {
      edges { node { id kind name facility email } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export const CreateUserMutation = gql<
  { createUser: User },
  { input: { name: string; facility: string; kind?: string; email?: string | null } }
>`
  mutation CreateUser($input: CreateUserInput!) {
    createUser(input: $input) { id kind name facility email }
  }
`;

export interface IssuedKeyBundle {
  certificate: Certificate;
  pkcs12Base64: string | null;
  password: string | null;
}
export const IssueWithKeyMutation = gql<
  { issueCertificateWithKey: IssuedKeyBundle },
  { userId: string; validityDays?: number | null }
>`
  mutation IssueCertificateWithKey($userId: String!, $validityDays: Int) {
    issueCertificateWithKey(userId: $userId, validityDays: $validityDays) {
      certificate { ${certificateFields} pem }
      pkcs12Base64
      password
    }
  }
`;

export const IssueFromCsrMutation = gql<
  { issueCertificateFromCsr: Certificate & { pem: string } },
  { userId: string; csrPem: string; validityDays?: number | null }
>`
  mutation IssueCertificateFromCsr($userId: String!, $csrPem: String!, $validityDays: Int) {
    issueCertificateFromCsr(userId: $userId, csrPem: $csrPem, validityDays: $validityDays) { ${certificateFields} pem }
  }
`;

export const RenewCertificateMutation = gql<
  { renewCertificate: IssuedKeyBundle },
  { serial: string; csrPem?: string | null }
>`
  mutation RenewCertificate($serial: String!, $csrPem: String) {
    renewCertificate(serial: $serial, csrPem: $csrPem) {
      certificate { ${certificateFields} pem }
      pkcs12Base64
      password
    }
  }
`;

export const RevokeCertificateMutation = gql<
  { revokeCertificate: Certificate },
  { serial: string; reason: RevocationReason }
>`
  mutation RevokeCertificate($serial: String!, $reason: RevocationReason!) {
    revokeCertificate(serial: $serial, reason: $reason) { ${certificateFields} }
  }
`;

export interface Membership {
  id: string;
  userId: string;
  userName: string;
  userFacility: string;
  groupPath: string;
  status: MembershipStatus;
  requestedRole: VoRole;
  requestedAt: string;
  decidedAt: string | null;
  reason: string | null;
  activatedAt: string | null;
  expiresAt: string | null;
  suspensionKind: string | null;
  /** Roles held in the membership's group. */
  roles: VoRole[];
}
const membershipFields = `id userId userName userFacility groupPath status requestedRole requestedAt decidedAt reason activatedAt expiresAt suspensionKind roles`;

export const MembershipsQuery = gql<
  { memberships: Connection<Membership> },
  {
    status?: MembershipStatus | null;
    groupPath?: string | null;
    userId?: string | null;
    first: number;
    after?: string | null;
  }
>`
  query Memberships($status: MembershipStatus, $groupPath: String, $userId: String, $first: Int, $after: String) {
    memberships(status: $status, groupPath: $groupPath, userId: $userId, first: $first, after: $after) {
      edges { node { ${membershipFields} } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

type MembershipResult<K extends string> = { [key in K]: Membership };
export const ApproveMembershipMutation = gql<MembershipResult<'approveMembership'>, { membershipId: string }>`
  mutation ApproveMembership($membershipId: String!) {
    approveMembership(membershipId: $membershipId) { ${membershipFields} }
  }
`;
export const RejectMembershipMutation = gql<
  MembershipResult<'rejectMembership'>,
  { membershipId: string; reason: string }
>`
  mutation RejectMembership($membershipId: String!, $reason: String!) {
    rejectMembership(membershipId: $membershipId, reason: $reason) { ${membershipFields} }
  }
`;
export const SuspendMembershipMutation = gql<
  MembershipResult<'suspendMembership'>,
  { membershipId: string; reason: string }
>`
  mutation SuspendMembership($membershipId: String!, $reason: String!) {
    suspendMembership(membershipId: $membershipId, reason: $reason) { ${membershipFields} }
  }
`;
export const RestoreMembershipMutation = gql<MembershipResult<'restoreMembership'>, { membershipId: string }>`
  mutation RestoreMembership($membershipId: String!) {
    restoreMembership(membershipId: $membershipId) { ${membershipFields} }
  }
`;
export const RenewMembershipMutation = gql<MembershipResult<'renewMembership'>, { membershipId: string }>`
  mutation RenewMembership($membershipId: String!) {
    renewMembership(membershipId: $membershipId) { ${membershipFields} }
  }
`;

export interface VoGroup {
  id: string;
  path: string;
  parentId: string | null;
  description: string | null;
}
export const VoGroupsQuery = gql<{ voGroups: VoGroup[] }, Record<string, never>>`
  query VoGroups {
    voGroups { id path parentId description }
  }
`;
export const CreateVoGroupMutation = gql<
  { createVoGroup: VoGroup },
  { path: string; description?: string | null }
>`
  mutation CreateVoGroup($path: String!, $description: String) {
    createVoGroup(path: $path, description: $description) { id path parentId description }
  }
`;
export const RenameVoGroupMutation = gql<{ renameVoGroup: VoGroup }, { groupId: string; name: string }>`
  mutation RenameVoGroup($groupId: String!, $name: String!) {
    renameVoGroup(groupId: $groupId, name: $name) { id path parentId description }
  }
`;
export const MoveVoGroupMutation = gql<{ moveVoGroup: VoGroup }, { groupId: string; newParentPath: string }>`
  mutation MoveVoGroup($groupId: String!, $newParentPath: String!) {
    moveVoGroup(groupId: $groupId, newParentPath: $newParentPath) { id path parentId description }
  }
`;
export const AssignRoleMutation = gql<
  { assignRole: { userId: string; groupPath: string; role: VoRole } },
  { userId: string; groupPath: string; role: VoRole }
>`
  mutation AssignRole($userId: String!, $groupPath: String!, $role: VoRole!) {
    assignRole(userId: $userId, groupPath: $groupPath, role: $role) { userId groupPath role }
  }
`;
export const RemoveRoleMutation = gql<
  { removeRole: boolean },
  { userId: string; groupPath: string; role: VoRole }
>`
  mutation RemoveRole($userId: String!, $groupPath: String!, $role: VoRole!) {
    removeRole(userId: $userId, groupPath: $groupPath, role: $role)
  }
`;

export interface Aup {
  version: number;
  text: string;
  publishedAt: string;
  acceptBy: string;
}
export const CurrentAupQuery = gql<{ currentAup: Aup | null }, Record<string, never>>`
  query CurrentAup {
    currentAup { version text publishedAt acceptBy }
  }
`;
export const PublishAupMutation = gql<{ publishAup: Aup }, { text: string; acceptBy: string }>`
  mutation PublishAup($text: String!, $acceptBy: DateTimeISO!) {
    publishAup(text: $text, acceptBy: $acceptBy) { version text publishedAt acceptBy }
  }
`;
export const GridMapfileQuery = gql<{ gridMapfile: string }, Record<string, never>>`
  query GridMapfile {
    gridMapfile
  }
`;
export const AuthdbQuery = gql<{ xrootdAuthdb: string }, Record<string, never>>`
  query XrootdAuthdb {
    xrootdAuthdb
  }
`;

export interface AuditEvent {
  id: string;
  at: string;
  actor: string | null;
  action: string;
  target: string | null;
  ip: string | null;
  details: string | null;
}
export interface AuditFilter {
  actor?: string | null;
  action?: string | null;
  target?: string | null;
  from?: string | null;
  to?: string | null;
}
export const AuditEventsQuery = gql<
  { auditEvents: Connection<AuditEvent> },
  AuditFilter & { first: number; after?: string | null }
>`
  query AuditEvents($actor: String, $action: String, $target: String, $from: DateTimeISO, $to: DateTimeISO, $first: Int, $after: String) {
    auditEvents(actor: $actor, action: $action, target: $target, from: $from, to: $to, first: $first, after: $after) {
      edges { node { id at actor action target ip details } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export const ExpiringSoonQuery = gql<
  { expiringSoon: { certificates: Certificate[]; memberships: Membership[] } },
  { days: number }
>`
  query ExpiringSoon($days: Int) {
    expiringSoon(days: $days) {
      certificates { ${certificateFields} }
      memberships { ${membershipFields} }
    }
  }
`;
