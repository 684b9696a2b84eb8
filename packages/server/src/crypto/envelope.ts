import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/**
 * Envelope encryption for patient identity at rest: each study has its own random 256-bit data key; the data
 * key is stored wrapped (AES-256-GCM) by the key-encryption key (KEK) from configuration. Sealed values are
 * `v1 | iv(12) | tag(16) | ciphertext`, authenticated with an associated string binding them to their row.
 */
const VERSION = 1;
const IV = 12;
const TAG = 16;

export class KeyError extends Error {
  readonly code = 'KEY_ERROR';
}

/** Short, non-secret id of a KEK (first 16 hex of SHA-256 over a label and the key). */
export function kekIdOf(kek: Buffer): string {
  return createHash('sha256').update('medgrid-kek-id\0').update(kek).digest('hex').slice(0, 16);
}

/** Parses a 256-bit key given as 64 hex digits or base64/base64url of 32 bytes. */
export function parseKey(raw: string, name: string): Buffer {
  const s = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(s) ? Buffer.from(s, 'hex') : Buffer.from(s, 'base64');
  if (key.length !== 32) throw new KeyError(`${name} must be 32 bytes (64 hex digits or base64)`);
  return key;
}

export function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, c.getAuthTag(), ct]);
}

export function open(key: Buffer, sealedValue: Uint8Array, aad: string): Buffer {
  const sealed = Buffer.from(sealedValue.buffer, sealedValue.byteOffset, sealedValue.byteLength);
  if (sealed.length < 1 + IV + TAG || sealed[0] !== VERSION) throw new KeyError('sealed value is malformed');
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 1 + IV));
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(sealed.subarray(1 + IV, 1 + IV + TAG));
  try {
    return Buffer.concat([d.update(sealed.subarray(1 + IV + TAG)), d.final()]);
  } catch {
    throw new KeyError('sealed value failed authentication (wrong key or tampered)');
  }
}

/** The KEK in use plus, during a rotation, the previous one (unwrap only). */
export class KeyRing {
  readonly currentId: string;
  private readonly keys = new Map<string, Buffer>();

  constructor(current: Buffer, previous: Buffer[] = []) {
    this.currentId = kekIdOf(current);
    this.keys.set(this.currentId, current);
    for (const k of previous) if (!this.keys.has(kekIdOf(k))) this.keys.set(kekIdOf(k), k);
  }

  newDataKey(): Buffer {
    return randomBytes(32);
  }

  wrap(dataKey: Buffer, aad: string): { kekId: string; wrapped: Buffer } {
    return { kekId: this.currentId, wrapped: seal(this.keys.get(this.currentId)!, dataKey, `dk:${aad}`) };
  }

  unwrap(kekId: string, wrapped: Uint8Array, aad: string): Buffer {
    const kek = this.keys.get(kekId);
    if (!kek)
      throw new KeyError(
        `key-encryption key ${kekId} is not configured (MEDGRID_KEK / MEDGRID_KEK_PREVIOUS)`,
      );
    return open(kek, wrapped, `dk:${aad}`);
  }

  has(kekId: string): boolean {
    return this.keys.has(kekId);
  }
}

/**
 * Blind index: HMAC-SHA-256 of normalised tokens under a key derived from the deployment's de-identification
 * secret (stable across KEK rotations). Only these digests are stored; equality search works, nothing else.
 */
export class BlindIndex {
  private readonly key: Buffer;
  constructor(secret: string | Buffer) {
    this.key = Buffer.from(
      hkdfSync('sha256', Buffer.from(secret), Buffer.alloc(0), 'medgrid blind index v1', 32),
    );
  }

  digest(kind: string, token: string): string {
    return createHmac('sha256', this.key).update(`${kind}\0${token}`).digest('base64url').slice(0, 32);
  }

  /** Name tokens: the components and words of a person name, upper-cased, accents stripped. */
  nameTokens(name: string): string[] {
    const norm = normalise(name);
    const words = norm.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);
    return [...new Set(words)].map((w) => this.digest('name', w));
  }

  /** Patient ID: the whole value, trimmed and upper-cased. */
  idToken(id: string): string {
    return this.digest('pid', normalise(id).replace(/\s+/g, ''));
  }
}

export function normalise(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}/gu, '').toUpperCase().trim();
}

export function sha256Hex(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

export function equalHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
