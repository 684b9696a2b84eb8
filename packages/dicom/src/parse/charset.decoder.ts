// Decodes DICOM text per Specific Character Set (PS3.3 C.12.1.1.2), including ISO 2022 code extensions.
import { TextDecoder } from 'node:util';

const SINGLE: Record<string, string> = {
  '': 'latin1',
  ISO_IR_6: 'latin1',
  ISO_IR_100: 'latin1',
  ISO_IR_101: 'iso-8859-2',
  ISO_IR_109: 'iso-8859-3',
  ISO_IR_110: 'iso-8859-4',
  ISO_IR_144: 'iso-8859-5',
  ISO_IR_127: 'iso-8859-6',
  ISO_IR_126: 'iso-8859-7',
  ISO_IR_138: 'iso-8859-8',
  ISO_IR_148: 'windows-1254',
  ISO_IR_166: 'windows-874',
  ISO_IR_13: 'shift_jis',
  ISO_IR_192: 'utf-8',
  GB18030: 'gb18030',
  GBK: 'gbk',
};

// G1 designations of ISO 2022 (ESC - F for 96-charsets, ESC ) F / ESC $ ) F for 94-sets).
const G1_ESCAPES: Record<string, string> = {
  '-A': 'latin1',
  '-B': 'iso-8859-2',
  '-C': 'iso-8859-3',
  '-D': 'iso-8859-4',
  '-L': 'iso-8859-5',
  '-G': 'iso-8859-6',
  '-F': 'iso-8859-7',
  '-H': 'iso-8859-8',
  '-M': 'windows-1254',
  '-T': 'windows-874',
  ')I': 'shift_jis',
  '$)C': 'euc-kr',
  '$)A': 'gb18030',
};

const ISO2022_INITIAL_G1: Record<string, string> = {
  ISO_2022_IR_100: 'latin1',
  ISO_2022_IR_101: 'iso-8859-2',
  ISO_2022_IR_109: 'iso-8859-3',
  ISO_2022_IR_110: 'iso-8859-4',
  ISO_2022_IR_144: 'iso-8859-5',
  ISO_2022_IR_127: 'iso-8859-6',
  ISO_2022_IR_126: 'iso-8859-7',
  ISO_2022_IR_138: 'iso-8859-8',
  ISO_2022_IR_148: 'windows-1254',
  ISO_2022_IR_166: 'windows-874',
  ISO_2022_IR_13: 'shift_jis',
  ISO_2022_IR_149: 'euc-kr',
  ISO_2022_IR_58: 'gb18030',
};

const decoders = new Map<string, TextDecoder>();
function dec(label: string): TextDecoder {
  let d = decoders.get(label);
  if (!d) {
    d = new TextDecoder(label);
    decoders.set(label, d);
  }
  return d;
}

function norm(term: string): string {
  return term.trim().replace(/ /g, '_');
}

/** Charset context from the raw (0008,0005) value; empty means the default repertoire. */
export function parseCharsets(raw: string | undefined): string[] {
  if (!raw) return [];
  return raw.split('\\').map(norm);
}

export function decodeText(bytes: Buffer, charsets: readonly string[]): string {
  if (bytes.length === 0) return '';
  const first = charsets[0] ?? '';
  const usesIso2022 = charsets.length > 1 || first.startsWith('ISO_2022') || bytes.includes(0x1b);
  if (!usesIso2022) {
    const label = SINGLE[first] ?? 'latin1';
    return label === 'latin1' ? bytes.toString('latin1') : dec(label).decode(bytes);
  }
  return decodeIso2022(bytes, charsets);
}

type G0 = 'ascii' | 'jisx0208' | 'jisx0212';

function decodeIso2022(bytes: Buffer, charsets: readonly string[]): string {
  const first = charsets[0] ?? '';
  let g1: string = ISO2022_INITIAL_G1[first] ?? SINGLE[first] ?? 'latin1';
  let g0: G0 = 'ascii';
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b === 0x1b) {
      const rest = bytes.toString('latin1', i + 1, Math.min(bytes.length, i + 4));
      if (rest.startsWith('$B') || rest.startsWith('$@')) {
        g0 = 'jisx0208';
        i += 3;
      } else if (rest.startsWith('$(D')) {
        g0 = 'jisx0212';
        i += 4;
      } else if (rest.startsWith('(B') || rest.startsWith('(J')) {
        g0 = 'ascii';
        i += 3;
      } else if (rest.startsWith('$)C') || rest.startsWith('$)A')) {
        g1 = G1_ESCAPES[rest.slice(0, 3)]!;
        i += 4;
      } else if (G1_ESCAPES[rest.slice(0, 2)]) {
        g1 = G1_ESCAPES[rest.slice(0, 2)]!;
        i += 3;
      } else {
        out += '\u001b';
        i += 1;
      }
      continue;
    }
    let j = i;
    if (b < 0x80) {
      while (j < bytes.length && bytes[j]! < 0x80 && bytes[j] !== 0x1b) j++;
      const run = bytes.subarray(i, j);
      if (g0 === 'ascii') out += run.toString('latin1');
      else out += decodeJis(run, g0);
    } else {
      while (j < bytes.length && bytes[j]! >= 0x80) j++;
      out += dec(g1).decode(bytes.subarray(i, j));
    }
    i = j;
  }
  return out;
}

function decodeJis(run: Buffer, g0: G0): string {
  // Control characters and delimiters stay single bytes; the rest are 2-byte JIS codes, read via EUC-JP.
  let out = '';
  let k = 0;
  while (k < run.length) {
    const c = run[k]!;
    if (c < 0x21 || c === 0x5c || c === 0x5e || c === 0x3d) {
      if (c < 0x21) {
        out += String.fromCharCode(c);
        k++;
        continue;
      }
    }
    if (k + 1 >= run.length) {
      out += String.fromCharCode(c);
      k++;
      continue;
    }
    const pair =
      g0 === 'jisx0212'
        ? Buffer.from([0x8f, c | 0x80, run[k + 1]! | 0x80])
        : Buffer.from([c | 0x80, run[k + 1]! | 0x80]);
    out += dec('euc-jp').decode(pair);
    k += 2;
  }
  return out;
}
