import { createHash, createHmac } from 'node:crypto';
import { DicomError } from '../errors/dicom.error.js';

export function secretBuffer(secret: Buffer | string): Buffer {
  const b = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (!Buffer.isBuffer(b) || b.length < 16) {
    throw new DicomError('BAD_ARGUMENT', 'the de-identification secret must be at least 16 bytes');
  }
  return b;
}

const uidCaches = new Map<string, Map<string, string>>();
const UID_CACHE_LIMIT = 200_000;

let lastSecret: Buffer | undefined;
let lastKeyId = '';

function keyId(secret: Buffer): string {
  // Callers usually pass the same secret every time: skip re-hashing it.
  if (lastSecret?.equals(secret)) return lastKeyId;
  lastSecret = Buffer.from(secret);
  lastKeyId = createHash('sha256').update(secret).digest('base64');
  return lastKeyId;
}

const pseudonymCache = new Map<string, PatientPseudonym>();

/** Remaps UIDs to 2.25.<128-bit decimal> via HMAC-SHA-256, so one UID maps to one new UID for a given secret. */
export class UidMapper {
  private readonly cache: Map<string, string>;

  constructor(private readonly secret: Buffer) {
    const id = keyId(secret);
    let c = uidCaches.get(id);
    if (!c) {
      if (uidCaches.size > 16) uidCaches.clear();
      c = new Map();
      uidCaches.set(id, c);
    }
    this.cache = c;
  }

  map(uid: string): string {
    if (uid === '') return '';
    let v = this.cache.get(uid);
    if (v === undefined) {
      const h = createHmac('sha256', this.secret).update('uid:').update(uid).digest();
      v = `2.25.${BigInt(`0x${h.toString('hex', 0, 16)}`).toString(10)}`;
      if (this.cache.size >= UID_CACHE_LIMIT) this.cache.clear();
      this.cache.set(uid, v);
    }
    return v;
  }
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(b: Buffer, chars: number): string {
  let out = '';
  let bits = 0;
  let acc = 0;
  for (const byte of b) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += B32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

export interface PatientPseudonym {
  id: string;
  name: string;
  /** Whole days (negative) added to dates under the modified-dates option. */
  dateShiftDays: number;
}

/** Per-patient pseudonym, derived from a stable patient key so every instance of a patient agrees. */
export function patientPseudonym(secret: Buffer, patientKey: string): PatientPseudonym {
  const cacheKey = `${keyId(secret)}|${patientKey}`;
  const hit = pseudonymCache.get(cacheKey);
  if (hit) return hit;
  const p = computePseudonym(secret, patientKey);
  if (pseudonymCache.size >= 10_000) pseudonymCache.clear();
  pseudonymCache.set(cacheKey, p);
  return p;
}

function computePseudonym(secret: Buffer, patientKey: string): PatientPseudonym {
  const h = createHmac('sha256', secret).update('patient:').update(patientKey).digest();
  const code = base32(h, 14);
  const shift = createHmac('sha256', secret).update('dateshift:').update(patientKey).digest().readUInt32BE(0);
  return { id: `MG${code}`, name: `ANON^${code}`, dateShiftDays: -(1 + (shift % 3650)) };
}

export function hmacToken(secret: Buffer, kind: string, value: string, chars: number): string {
  return base32(createHmac('sha256', secret).update(`${kind}:`).update(value).digest(), chars);
}
