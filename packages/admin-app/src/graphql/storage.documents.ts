import { gql } from '@urql/core';

// Hand-typed from the server's storage admin API (packages/server/src/storage-admin/).
export type SeStatus = 'UP' | 'DOWN' | 'READ_ONLY' | 'DRAINING' | 'LOST';
export type SeAction = 'ENABLE' | 'DISABLE' | 'DRAIN';

export interface StorageElement {
  name: string;
  url: string;
  status: SeStatus;
  weight: number;
  quotaBytes: number | null;
  usedBytes: number;
  objects: number;
  objectBytes: number;
  problemReplicas: number;
}
const seFields = 'name url status weight quotaBytes usedBytes objects objectBytes problemReplicas';

export interface IngestDay {
  day: string;
  objects: number;
  bytes: number;
}

export interface ReplicationHealth {
  objects: number;
  healthy: number;
  underReplicated: number;
  withoutCopy: number;
  replicasByState: { state: string; count: number }[];
  worst: { objectId: string; copies: number; good: number }[];
}

export const StorageOverviewQuery = gql<
  { storageElements: StorageElement[]; ingestPerDay: IngestDay[]; replicationHealth: ReplicationHealth },
  { days: number }
>`
  query StorageOverview($days: Int!) {
    storageElements { ${seFields} }
    ingestPerDay(days: $days) { day objects bytes }
    replicationHealth {
      objects healthy underReplicated withoutCopy
      replicasByState { state count }
      worst { objectId copies good }
    }
  }
`;

export const SetStorageElementStatusMutation = gql<
  { setStorageElementStatus: StorageElement },
  { name: string; action: SeAction }
>`
  mutation SetStorageElementStatus($name: String!, $action: StorageElementAction!) {
    setStorageElementStatus(name: $name, action: $action) { ${seFields} }
  }
`;

export type JobList = 'PENDING' | 'FAILED';
export interface StorageJob {
  id: string;
  kind: string;
  state: string;
  subject: string;
  retryCount: number;
  retryLimit: number;
  reason: string;
  createdOn: string;
  completedOn: string | null;
}
const jobFields = 'id kind state subject retryCount retryLimit reason createdOn completedOn';

export const StorageJobsQuery = gql<
  {
    pending: StorageJob[];
    failed: StorageJob[];
    storageJobCounts: { kind: string; state: string; count: number }[];
  },
  Record<string, never>
>`
  query StorageJobs {
    pending: storageJobs(list: PENDING, first: 100) { ${jobFields} }
    failed: storageJobs(list: FAILED, first: 100) { ${jobFields} }
    storageJobCounts { kind state count }
  }
`;

export const RetryStorageJobMutation = gql<{ retryStorageJob: StorageJob }, { id: string }>`
  mutation RetryStorageJob($id: ID!) {
    retryStorageJob(id: $id) { ${jobFields} }
  }
`;

export interface ScanReport {
  jobId: string;
  se: string;
  finishedAt: string | null;
  listed: number;
  dark: number;
  missing: number;
  quarantined: number;
  repairQueued: number;
  darkSample: string[];
  missingSample: string[];
}

export const ScanReportsQuery = gql<
  { scanReports: ScanReport[]; storageElements: { name: string }[] },
  Record<string, never>
>`
  query ScanReports {
    scanReports(first: 20) {
      jobId se finishedAt listed dark missing quarantined repairQueued darkSample missingSample
    }
    storageElements { name }
  }
`;

export const StartConsistencyScanMutation = gql<
  { startConsistencyScan: string },
  { se: string; repair: boolean }
>`
  mutation StartConsistencyScan($se: String!, $repair: Boolean!) {
    startConsistencyScan(se: $se, repair: $repair)
  }
`;

/** Bytes as B, KiB, MiB, GiB, TiB in the UI language's number format. */
export function formatBytes(n: number, locale: string): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const num = v.toLocaleString(locale === 'uk' ? 'uk-UA' : 'en-GB', { maximumFractionDigits: i ? 1 : 0 });
  return `${num} ${units[i]}`;
}
