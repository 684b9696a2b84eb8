// Object paths on SEs must never carry patient data: only content hashes and de-identified UIDs, which use
// a small alphabet. Refusing anything else keeps a mistaken caller from leaking a name into an SE path.
const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Normalises a relative object path ("a/b/c") and throws when it is not made of safe segments. */
export function safePath(path: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  const segments = trimmed.split('/');
  for (const s of segments) {
    if (!SAFE_SEGMENT.test(s) || s === '.' || s === '..') {
      // The offending path is deliberately not echoed: it may be exactly the leak we are preventing.
      throw new Error(
        'object path refused: only [A-Za-z0-9._-] segments (content hashes, de-identified UIDs)',
      );
    }
  }
  return segments.join('/');
}

/** Suggested layout for a content-addressed object: two levels of fan-out from the hash. */
export function contentPath(sha256: string, prefix = 'objects'): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('contentPath needs a lower-case hex SHA-256');
  return `${prefix}/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
}
