import { gql } from '@urql/core';

// Hand-typed from the server's schema (packages/server/schema.graphql).
export interface ShareRow {
  id: string;
  kind: 'user' | 'link' | 'patient';
  withIdentity: boolean;
  createdAt: string;
  granteeUserId: string | null;
  expiresAt: string | null;
  maxUses: number | null;
  uses: number;
  revokedAt: string | null;
}
const shareFields = 'id kind withIdentity createdAt granteeUserId expiresAt maxUses uses revokedAt';

export interface AccessEntry {
  userId: string;
  name: string;
  facility: string;
  via: 'owner' | 'user' | 'link' | 'patient';
  withIdentity: boolean;
  shareId: string | null;
  since: string;
}
export interface AccessLogEntry {
  id: string;
  at: string;
  actor: string | null;
  action: string;
}

export const SharingQuery = gql<
  {
    studyAccess: AccessEntry[];
    studyShares: ShareRow[];
    studyAccessLog: { edges: { node: AccessLogEntry }[]; pageInfo: { hasNextPage: boolean } };
  },
  { studyId: string }
>`
  query Sharing($studyId: ID!) {
    studyAccess(studyId: $studyId) { userId name facility via withIdentity shareId since }
    studyShares(studyId: $studyId) { ${shareFields} }
    studyAccessLog(studyId: $studyId, first: 50) { edges { node { id at actor action } } pageInfo { hasNextPage } }
  }
`;

export interface DoctorEntry {
  id: string;
  name: string;
  facility: string;
}
export const DoctorsQuery = gql<{ doctors: DoctorEntry[] }, { search: string }>`
  query Doctors($search: String!) {
    doctors(search: $search, first: 10) { id name facility }
  }
`;

export const ShareStudyMutation = gql<
  { shareStudy: ShareRow },
  { studyId: string; userId: string; withIdentity: boolean }
>`
  mutation ShareStudy($studyId: ID!, $userId: ID!, $withIdentity: Boolean!) {
    shareStudy(studyId: $studyId, userId: $userId, withIdentity: $withIdentity) { ${shareFields} }
  }
`;

export interface CreatedLink {
  share: ShareRow;
  token: string;
  url: string;
}
export const CreateShareLinkMutation = gql<
  { createShareLink: CreatedLink },
  { studyId: string; withIdentity: boolean; expiresInHours: number; maxUses: number | null }
>`
  mutation CreateShareLink($studyId: ID!, $withIdentity: Boolean!, $expiresInHours: Int!, $maxUses: Int) {
    createShareLink(studyId: $studyId, withIdentity: $withIdentity, expiresInHours: $expiresInHours, maxUses: $maxUses) {
      share { ${shareFields} } token url
    }
  }
`;
export const CreatePatientLinkMutation = gql<
  { createPatientLink: CreatedLink },
  { studyId: string; withIdentity: boolean; expiresInDays: number; maxUses: number | null }
>`
  mutation CreatePatientLink($studyId: ID!, $withIdentity: Boolean!, $expiresInDays: Int!, $maxUses: Int) {
    createPatientLink(studyId: $studyId, withIdentity: $withIdentity, expiresInDays: $expiresInDays, maxUses: $maxUses) {
      share { ${shareFields} } token url
    }
  }
`;

export const RevokeShareMutation = gql<{ revokeShare: boolean }, { shareId: string }>`
  mutation RevokeShare($shareId: ID!) {
    revokeShare(shareId: $shareId)
  }
`;

export const RedeemShareLinkMutation = gql<
  { redeemShareLink: { id: string; studyUid: string } },
  { token: string }
>`
  mutation RedeemShareLink($token: String!) {
    redeemShareLink(token: $token) { id studyUid }
  }
`;
