import dictionaryJson from './dictionary.generated.json' with { type: 'json' };

export interface DictEntry {
  vr: string;
  keyword: string;
  vm: string;
}

const exact = new Map<number, DictEntry>();
const masked: { mask: number; value: number; entry: DictEntry }[] = [];
const byKeyword = new Map<string, number>();

for (const line of (dictionaryJson as { data: string }).data.split('\n')) {
  const [id, rawVr, keyword, vm] = line.split('\t') as [string, string, string, string];
  // Multi-choice VRs ("US or SS", "OB or OW") resolve to the first; implicit-VR readers only need the width class.
  const vr = /^[A-Z]{2}/.test(rawVr) ? rawVr.slice(0, 2) : 'UN';
  const entry: DictEntry = { vr, keyword, vm };
  if (id.includes('x')) {
    let mask = 0;
    let value = 0;
    for (let i = 0; i < 8; i++) {
      const c = id[i]!;
      mask = (mask << 4) | (c === 'x' ? 0 : 0xf);
      value = (value << 4) | (c === 'x' ? 0 : Number.parseInt(c, 16));
    }
    masked.push({ mask: mask >>> 0, value: value >>> 0, entry });
  } else {
    const tag = Number.parseInt(id, 16);
    exact.set(tag, entry);
    if (keyword) byKeyword.set(keyword, tag);
  }
}

export function lookupTag(tag: number): DictEntry | undefined {
  const e = exact.get(tag);
  if (e) return e;
  const group = tag >>> 16;
  if ((group & 1) === 0) {
    for (const m of masked) if ((tag & m.mask) >>> 0 === m.value) return m.entry;
  }
  return undefined;
}

/** VR to use when the transfer syntax carries none (implicit VR). */
export function implicitVr(tag: number): string {
  const group = tag >>> 16;
  const elem = tag & 0xffff;
  if (elem === 0) return 'UL';
  if (group & 1) return elem >= 0x10 && elem <= 0xff ? 'LO' : 'UN';
  return lookupTag(tag)?.vr ?? 'UN';
}

export function keywordOf(tag: number): string {
  const group = tag >>> 16;
  const elem = tag & 0xffff;
  if (elem === 0) return 'GroupLength';
  if (group & 1) return elem >= 0x10 && elem <= 0xff ? 'PrivateCreator' : '';
  return lookupTag(tag)?.keyword ?? '';
}

export function tagOfKeyword(keyword: string): number | undefined {
  return byKeyword.get(keyword);
}

export function dictionarySize(): number {
  return exact.size + masked.length;
}
