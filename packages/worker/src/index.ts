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
