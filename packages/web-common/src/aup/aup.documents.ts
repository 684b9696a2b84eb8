import { gql } from '@urql/core';

export interface CurrentAup {
  version: number;
  text: string;
  acceptBy: string;
}
export const CurrentAupQuery = gql<{ currentAup: CurrentAup | null }, Record<string, never>>`
  query CurrentAup {
    currentAup { version text acceptBy }
  }
`;
export const AcceptAupMutation = gql<{ acceptAup: boolean }, { version: number }>`
  mutation AcceptAup($version: Int!) {
    acceptAup(version: $version)
  }
`;
