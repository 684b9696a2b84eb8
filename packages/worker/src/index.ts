export { BackendPool } from './backends/backend.pool.js';
export type {
  ByteSource,
  ObjectStat,
  PutOptions,
  PutResult,
  StorageBackend,
} from './backends/backend.types.js';
export { loadTls, type SeCredentials } from './backends/credentials.util.js';
export { DavsBackend, type DavsOptions } from './backends/davs.backend.js';
export { FileBackend } from './backends/file.backend.js';
export { openBackend } from './backends/open.backend.js';
export { contentPath, safePath } from './backends/path.util.js';
export { isStorageError, StorageError, type StorageErrorCode } from './backends/storage.error.js';
export { type Expected, type VerifyOutcome, verifyObject } from './backends/verify.util.js';
export { Adler32, adler32, adler32Combine, adler32Hex, adler32Update } from './checksum/adler32.util.js';
export { DigestStream, type Digests, digestFile, digestOf } from './checksum/digest.stream.js';
export { configFromEnv, parseSeUrls } from './config/worker.config.js';
export { bytesStored, jobSeconds, jobsTotal, storageRegistry } from './metrics/storage.metrics.js';
export {
  type FailedJob,
  JOB_KINDS,
  JOB_STATES,
  type JobData,
  type JobHandlers,
  type JobInfo,
  type JobKind,
  type JobState,
  type QueueOptions,
  StorageQueue,
} from './queue/storage.queue.js';
export {
  ensureStorageSchema,
  type SeInput,
  StorageWorker,
  type StorageWorkerConfig,
} from './queue/storage.worker.js';
export { orderByWeight } from './replicas/placement.util.js';
export { changeSeStatus, UnknownSeError } from './replicas/se-status.util.js';
export {
  type IReplica,
  type IStorageElement,
  type IStoredObject,
  REPLICA_STATES,
  Replica,
  type ReplicaState,
  SE_STATUSES,
  type SeStatus,
  StorageElement,
  StoredObject,
  storageEntities,
} from './replicas/storage.entity.js';
export { type ScanReport, scanJob } from './scan/scan.job.js';
export { StageCache, StageChecksumError, type StageSource } from './stage/stage.cache.js';
