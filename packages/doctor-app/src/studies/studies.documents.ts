import { gql } from '@urql/core';

// Hand-typed from the server's schema (packages/server/src/studies/study.resolver.ts).
export type StudyScope = 'mine' | 'shared';
/** The GraphQL enum's names. */
export const SCOPE_ENUM = { mine: 'MINE', shared: 'SHARED' } as const;
export type StudySort = 'CREATED_DESC' | 'CREATED_ASC' | 'STUDY_DATE_DESC' | 'STUDY_DATE_ASC';

export interface StudyFilter {
  patientName?: string;
  patientId?: string;
  modality?: string;
  dateFrom?: string;
  dateTo?: string;
  description?: string;
}

export interface PatientIdentity {
  name: string | null;
  patientId: string | null;
  birthDate: string | null;
  sex: string | null;
}

export interface StudyRow {
  id: string;
  studyUid: string;
  modalities: string[];
  studyDate: string | null;
  description: string | null;
  seriesCount: number;
  instanceCount: number;
  totalBytes: number;
  createdAt: string;
  access: 'OWNER' | 'GRANT';
  withIdentity: boolean;
  thumbnailUrl: string | null;
  patient: PatientIdentity | null;
}

const studyFields = `id studyUid modalities studyDate description seriesCount instanceCount totalBytes createdAt
  access withIdentity thumbnailUrl patient { name patientId birthDate sex }`;

export interface StudiesData {
  studies: {
    edges: { cursor: string; node: StudyRow }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}
export interface StudiesVars {
  scope: (typeof SCOPE_ENUM)[StudyScope];
  filter: StudyFilter | null;
  sort: StudySort;
  first: number;
  after: string | null;
}
export const StudiesQuery = gql<StudiesData, StudiesVars>`
  query Studies($scope: StudyScope!, $filter: StudyFilterInput, $sort: StudySort, $first: Int, $after: String) {
    studies(scope: $scope, filter: $filter, sort: $sort, first: $first, after: $after) {
      edges { cursor node { ${studyFields} } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export interface InstanceRow {
  id: string;
  sopInstanceUid: string;
  instanceNumber: number | null;
  transferSyntaxUid: string;
  rows: number | null;
  columns: number | null;
  numberOfFrames: number | null;
  size: number;
  storageState: string;
  replicas: number;
}
export interface SeriesRow {
  id: string;
  seriesUid: string;
  modality: string | null;
  seriesNumber: number | null;
  description: string | null;
  instanceCount: number;
  totalBytes: number;
  instances: InstanceRow[];
}
export interface StudyDetail extends StudyRow {
  hasIdentity: boolean;
  series: SeriesRow[];
}
export const StudyQuery = gql<{ study: StudyDetail }, { id: string }>`
  query Study($id: ID!) {
    study(id: $id) {
      ${studyFields} hasIdentity
      series {
        id seriesUid modality seriesNumber description instanceCount totalBytes
        instances { id sopInstanceUid instanceNumber transferSyntaxUid rows columns numberOfFrames size storageState replicas }
      }
    }
  }
`;

/** Storage state only (no identity read, so no audit event): polled while images are still being stored. */
export const StudyStorageQuery = gql<
  {
    study: {
      id: string;
      series: { id: string; instances: { id: string; storageState: string; replicas: number }[] }[];
    };
  },
  { id: string }
>`
  query StudyStorage($id: ID!) {
    study(id: $id) { id series { id instances { id storageState replicas } } }
  }
`;
