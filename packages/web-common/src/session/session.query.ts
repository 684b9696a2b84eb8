import { gql } from '@urql/core';

// Hand-typed from the server's schema (introspection in development); keep in step with `type Me`.
export type VoRoleName = 'DOCTOR' | 'GROUP_MANAGER' | 'VO_ADMIN' | 'CA_OPERATOR' | 'GATEWAY';
export type AccessState = 'ACTIVE' | 'AUP_REQUIRED' | 'INACTIVE';

export interface Me {
  userId: string;
  name: string;
  facility: string;
  kind: string;
  subject: string;
  certificateSerial: string;
  via: string;
  access: AccessState;
  roles: { groupPath: string; role: VoRoleName }[];
  pendingAupVersion: number | null;
}

const meFields = `
  userId
  name
  facility
  kind
  subject
  certificateSerial
  via
  access
  roles { groupPath role }
  pendingAupVersion
`;

export const MeQuery = gql<{ me: Me | null }, Record<string, never>>`
  query Me {
    me { ${meFields} }
  }
`;

export interface Challenge {
  nonceId: string;
  toSign: string;
  expiresAt: string;
  algorithms: string[];
}

export const RequestChallengeMutation = gql<{ requestChallenge: Challenge }, Record<string, never>>`
  mutation RequestChallenge {
    requestChallenge { nonceId toSign expiresAt algorithms }
  }
`;

export interface SignInVariables {
  certificatePem: string;
  nonceId: string;
  signature: string;
  algorithm: string;
}

export const SignInMutation = gql<{ signIn: { me: Me; expiresAt: string } }, SignInVariables>`
  mutation SignIn($certificatePem: String!, $nonceId: String!, $signature: String!, $algorithm: String!) {
    signIn(certificatePem: $certificatePem, nonceId: $nonceId, signature: $signature, algorithm: $algorithm) {
      me { ${meFields} }
      expiresAt
    }
  }
`;

export const SignOutMutation = gql<{ signOut: boolean }, Record<string, never>>`
  mutation SignOut {
    signOut
  }
`;
