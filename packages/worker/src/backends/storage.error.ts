/** Why a storage operation failed, in terms a job can act on. */
export type StorageErrorCode =
  | 'credentials-refused' // 403, or the SE rejected our certificate during the TLS handshake
  | 'se-untrusted' // the SE's certificate does not chain to our CA
  | 'unavailable' // connection refused/reset, timeout, 5xx: try again later
  | 'not-found'
  | 'checksum-mismatch'
  | 'size-mismatch'
  | 'bad-path'
  | 'protocol';

const RETRYABLE: ReadonlySet<StorageErrorCode> = new Set([
  'unavailable',
  'checksum-mismatch',
  'size-mismatch',
]);

/**
 * Error from a storage backend. Messages name the SE and the operation, never object content; object paths
 * are content hashes or de-identified UIDs (enforced by assertSafePath), so they may appear.
 */
export class StorageError extends Error {
  readonly code: StorageErrorCode;
  readonly se: string;
  readonly retryable: boolean;
  readonly status: number | undefined;
  /** The SE's own explanation, when it sent one (kept out of the message). */
  detail: string | undefined;

  constructor(
    se: string,
    code: StorageErrorCode,
    message: string,
    opts: { status?: number; cause?: unknown } = {},
  ) {
    super(`SE ${se}: ${message}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'StorageError';
    this.code = code;
    this.se = se;
    this.status = opts.status;
    this.retryable = RETRYABLE.has(code);
  }
}

export function isStorageError(e: unknown, code?: StorageErrorCode): e is StorageError {
  return e instanceof StorageError && (code === undefined || e.code === code);
}

const NET_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);

/** Maps a low-level (socket/TLS) error to a StorageError for SE `se` during `op`. */
export function classifyNetError(se: string, op: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = String(e?.code ?? '');
  const msg = String(e?.message ?? err);
  // The SE refused our certificate: OpenSSL reports the peer's alert (unknown CA, bad/expired/revoked cert).
  if (
    /^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_(UNKNOWN|EXPIRED|REVOKED|REQUIRED|UNSUPPORTED)|ACCESS_DENIED|HANDSHAKE_FAILURE)$/.test(
      code,
    ) ||
    /alert (unknown ca|bad certificate|certificate (unknown|expired|revoked|required)|access denied|handshake failure)/i.test(
      msg,
    )
  ) {
    return new StorageError(
      se,
      'credentials-refused',
      `credentials refused during TLS handshake (${op}: ${code || msg})`,
      {
        cause: err,
      },
    );
  }
  if (
    /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|ERR_TLS_CERT_ALTNAME_INVALID|CERT_UNTRUSTED)$/.test(
      code,
    )
  ) {
    return new StorageError(se, 'se-untrusted', `the SE's certificate is not trusted (${op}: ${code})`, {
      cause: err,
    });
  }
  if (NET_UNAVAILABLE.has(code) || /socket hang up|other side closed|timed out/i.test(msg)) {
    return new StorageError(se, 'unavailable', `unavailable, try again later (${op}: ${code || msg})`, {
      cause: err,
    });
  }
  if (code === 'ERR_HTTP_CONTENT_LENGTH_MISMATCH') {
    return new StorageError(se, 'size-mismatch', `declared size differs from the bytes sent (${op})`, {
      cause: err,
    });
  }
  return new StorageError(se, 'protocol', `${op} failed: ${code || msg}`, { cause: err });
}

/** Maps an HTTP status to a StorageError, or returns undefined for success. */
export function classifyStatus(se: string, op: string, status: number): StorageError | undefined {
  if (status < 300) return undefined;
  // XrdHttp creates parent directories itself and answers 404 "Could not run write request" to a PUT it
  // failed to start under load: worth another try, unlike a 404 on a read.
  if (status === 404 && op === 'PUT')
    return new StorageError(se, 'unavailable', `unavailable, try again later (${op}: HTTP 404)`, { status });
  if (status === 401 || status === 403)
    return new StorageError(se, 'credentials-refused', `credentials refused (${op}: HTTP ${status})`, {
      status,
    });
  if (status === 404) return new StorageError(se, 'not-found', `not found (${op}: HTTP 404)`, { status });
  if (status >= 500 || status === 408 || status === 429)
    return new StorageError(se, 'unavailable', `unavailable, try again later (${op}: HTTP ${status})`, {
      status,
    });
  return new StorageError(se, 'protocol', `${op} failed: HTTP ${status}`, { status });
}
