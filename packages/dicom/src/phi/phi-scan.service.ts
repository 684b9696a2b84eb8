import { extractQueryAttributes } from '../query/query-attributes.service.js';

// Placeholders and DICOM words that test files carry as names are not identifying.
const PLACEHOLDER = /^(ANONYMOUS|ANONYMIZED|UNKNOWN|REMOVED|PATIENT|PHANTOM|TEST|0+)$/i;

/**
 * The values that identify the patients of some DICOM files, for "no PHI here" checks: whole patient names,
 * IDs and birth dates (4+ characters) and name components (5+ characters), placeholders left out. Files that
 * cannot be parsed contribute nothing.
 */
export function identifyingValues(files: Iterable<Buffer>, into = new Set<string>()): Set<string> {
  const real = (x: string) => !PLACEHOLDER.test(x);
  for (const b of files) {
    let q: ReturnType<typeof extractQueryAttributes>;
    try {
      q = extractQueryAttributes(b);
    } catch {
      continue;
    }
    for (const v of [q.patientName, q.patientId, q.patientBirthDate]) {
      const t = (v ?? '').trim();
      if (t.length >= 4 && real(t)) into.add(t);
      for (const part of t.split(/[\^=]/))
        if (part.trim().length >= 5 && real(part.trim())) into.add(part.trim());
    }
  }
  return into;
}

/** Each value as latin1, UTF-8, UTF-16LE and upper-case latin1: the byte forms a leak can take. */
export function phiEncodings(values: Iterable<string>): Buffer[] {
  return [...values]
    .flatMap((n) => [
      Buffer.from(n, 'latin1'),
      Buffer.from(n, 'utf8'),
      Buffer.from(n, 'utf16le'),
      Buffer.from(n.toUpperCase(), 'latin1'),
    ])
    .filter((e) => e.length >= 4);
}

const isDigitish = (c: number | undefined) => c !== undefined && ((c >= 0x30 && c <= 0x39) || c === 0x2e);

/** Whether `needle` occurs in `hay`; a numeric needle only as a whole number (not inside a longer decimal). */
export function occurs(hay: Buffer, needle: Buffer): boolean {
  const numeric = /^[0-9]+$/.test(needle.toString('latin1'));
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) {
    if (!numeric || (!isDigitish(hay[i - 1]) && !isDigitish(hay[i + needle.length]))) return true;
  }
  return false;
}

/** The encoded values (from phiEncodings) found in `hay`. */
export function phiFound(hay: Buffer, encoded: readonly Buffer[]): Buffer[] {
  return encoded.filter((e) => occurs(hay, e));
}
