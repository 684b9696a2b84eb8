export type DicomErrorCode =
  | 'TRUNCATED'
  | 'BAD_VR'
  | 'MISSING_META'
  | 'BAD_LENGTH'
  | 'BAD_STRUCTURE'
  | 'TOO_DEEP'
  | 'BAD_DEFLATE'
  | 'UNSUPPORTED'
  | 'BAD_IDENTITY'
  | 'IDENTITY_MISMATCH'
  | 'SHA_MISMATCH'
  | 'BAD_ARGUMENT'
  | 'IO_ERROR';

/**
 * Typed error with a stable code. Messages carry only structural facts (tags, offsets, lengths),
 * never element values, so they are safe to log.
 */
export class DicomError extends Error {
  readonly code: DicomErrorCode;
  readonly offset: number | undefined;

  constructor(code: DicomErrorCode, message: string, offset?: number) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`);
    this.name = 'DicomError';
    this.code = code;
    this.offset = offset;
  }
}

export function isDicomError(e: unknown): e is DicomError {
  return e instanceof DicomError;
}

export function tagString(tag: number): string {
  const g = (tag >>> 16).toString(16).padStart(4, '0');
  const e = (tag & 0xffff).toString(16).padStart(4, '0');
  return `(${g},${e})`;
}
