import { gql } from '@urql/core';

// Hand-typed from the server's schema (introspection in development).
export type MembershipStatus = 'REQUESTED' | 'APPROVED' | 'REJECTED' | 'ACTIVE' | 'SUSPENDED' | 'EXPIRED';
export interface MyMembership {
  id: string;
  groupPath: string;
  status: MembershipStatus;
  requestedRole: string;
  expiresAt: string | null;
  reason: string | null;
  suspensionKind: string | null;
}
const fields = 'id groupPath status requestedRole expiresAt reason suspensionKind';

export const MyMembershipsQuery = gql<{ myMemberships: MyMembership[] }, Record<string, never>>`
  query MyMemberships {
    myMemberships { ${fields} }
  }
`;
export const RequestMembershipMutation = gql<{ requestMembership: MyMembership }, { groupPath: string }>`
  mutation RequestMembership($groupPath: String!) {
    requestMembership(groupPath: $groupPath) { ${fields} }
  }
`;
