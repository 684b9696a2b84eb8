import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { DicomElement } from '../parse/dataset.model.js';
import { parseDicom } from '../parse/parse.service.js';
import { CHARSET_VRS, charsetsOf, readString, STRING_VRS, valueBytes } from '../parse/value.reader.js';
import { BARE_DATASETS, BROKEN_FILES, corpusFiles } from '../testing/corpus.fixture.js';
import { deidentify, IMPLEMENTATION_VERSION } from './deidentify.service.js';
import { BASIC_PROFILE, type DeidProfile, methodCodes, RESEARCH_PROFILE } from './profile.model.js';
import { actionForTag } from './rules.service.js';

const SECRET = 'phi-leak-test-secret-0123456789';

interface Collected {
  removed: Map<string, Buffer[]>;
  kept: string[];
}

function textOf(data: Buffer, el: DicomElement): Buffer | undefined {
  if (STRING_VRS.has(el.vr)) return valueBytes(data, el);
  // Private elements read without a VR (implicit or UN): treat printable runs as text.
  if (el.vr === 'UN' || el.vr === 'OB' || (el.tag >>> 16) & 1) {
    const v = valueBytes(data, el);
    return v.every((c) => (c >= 0x20 && c < 0x7f) || c === 0) ? v : undefined;
  }
  return undefined;
}

/** Candidate strings (4+ characters) of one value: each value of a multi-valued string, and PN components. */
function candidates(raw: Buffer, decoded: string): { text: string; raw: Buffer | undefined }[] {
  const out: { text: string; raw: Buffer | undefined }[] = [];
  const rawStr = raw.toString('latin1');
  for (const [i, v] of decoded.split('\\').entries()) {
    const rawPart = rawStr.split('\\')[i];
    const t = v.replace(/[\0\s]+$/, '').replace(/^\s+/, '');
    if (t.length >= 4)
      out.push({ text: t, raw: rawPart ? Buffer.from(rawPart.trim(), 'latin1') : undefined });
    for (const comp of t.split(/[\^=]/)) {
      const c = comp.trim();
      if (c.length >= 4 && c !== t) out.push({ text: c, raw: undefined });
    }
  }
  // A run of one repeated character ('000000') says nothing about a patient and turns up in pixel data.
  return out.filter((c) => /[A-Za-z0-9\u0080-\uffff]/.test(c.text) && !/^(.)\1*$/s.test(c.text));
}

/** Text the de-identifier itself writes (dummy values, CID 7050 meanings); finding it is not a leak. */
function fixedTexts(profile: DeidProfile): string[] {
  return [
    'ANONYMOUS',
    'ANONYMIZED',
    'ANON^',
    '19000101000000',
    IMPLEMENTATION_VERSION,
    `MedGrid ${profile.name} v${profile.version} PS3.15 E.1-1 ${profile.edition}`,
    ...methodCodes(profile).map((c) => c.meaning),
  ];
}

const TEXT_VRS = new Set(['LO', 'LT', 'ST', 'UT', 'SH', 'PN', 'UC']);

/**
 * Classifies every value as removed or kept under the profile. Removal covers attributes whose action is not K,
 * private elements, everything under a removed (X/Z) sequence, and free text under a dummied (D) sequence.
 * Cleaned (C) free text keeps its non-identifying words by design, so it is not counted as removed.
 */
function collect(
  data: Buffer,
  elements: readonly DicomElement[],
  inherited: readonly string[],
  profile: DeidProfile,
  parent: 'kept' | 'removed' | 'dummyText' | 'cleanText',
  acc: Collected,
): void {
  const cs = charsetsOf(data, elements, inherited);
  for (const el of elements) {
    const rule = actionForTag(el.tag, profile.options);
    const a = rule?.action;
    let removed: boolean;
    let childMode = parent;
    if (parent === 'removed') removed = true;
    else if (a === undefined) removed = parent === 'dummyText' && TEXT_VRS.has(el.vr);
    else if (a === 'K') removed = false;
    else if (a === 'C') removed = !TEXT_VRS.has(el.vr) || el.vr === 'PN';
    else removed = true;
    if (el.items) {
      if (a === 'X' || a === 'Z' || ((el.tag >>> 16) & 1 && a !== 'K')) childMode = 'removed';
      else if (a === 'D' && parent !== 'cleanText') childMode = 'dummyText';
      else if (a === 'C') childMode = 'cleanText';
      for (const it of el.items) collect(data, it.elements, cs, profile, childMode, acc);
      continue;
    }
    if (a === 'C' && (el.vr === 'TM' || !TEXT_VRS.has(el.vr))) {
      if (el.vr !== 'DA' && el.vr !== 'DT' && el.vr !== 'AE' && el.vr !== 'UI') removed = false;
    }
    const raw = textOf(data, el);
    if (!raw || raw.length === 0) continue;
    const decoded = CHARSET_VRS.has(el.vr) ? readString(data, el, cs) : raw.toString('latin1');
    if (removed) {
      for (const c of candidates(raw, decoded)) {
        const forms: Buffer[] = [Buffer.from(c.text, 'utf8'), Buffer.from(c.text, 'latin1')];
        if (c.raw) forms.push(c.raw);
        acc.removed.set(c.text, forms);
      }
    } else acc.kept.push(decoded, raw.toString('latin1'));
  }
}

function checkFile(
  path: string,
  abs: string,
  ts: string,
  profile: DeidProfile,
): { checked: number; leaks: string[] } {
  const original = readFileSync(abs);
  const opts = BARE_DATASETS.has(path) ? { transferSyntaxUid: ts } : {};
  const p = parseDicom(original, opts);
  const acc: Collected = { removed: new Map(), kept: [] };
  collect(p.data, p.elements, [], profile, 'kept', acc);
  for (const m of p.meta)
    if (m.tag === 0x00020002 || m.tag === 0x00020010) acc.kept.push(readString(p.source, m));
  acc.kept.push(...fixedTexts(profile));
  const r = deidentify(original, { ...opts, profile, secret: SECRET });
  const deid = parseDicom(r.deidentified);
  // Search the file as stored and, for deflated syntaxes, the inflated dataset too.
  const haystacks = [r.deidentified, deid.data];
  const leaks: string[] = [];
  let checked = 0;
  for (const [text, forms] of acc.removed) {
    // A value the profile keeps elsewhere in the same dataset (e.g. a creator name equal to Manufacturer) is not a leak.
    if (acc.kept.some((k) => k.includes(text))) continue;
    checked++;
    if (forms.some((f) => f.length >= 4 && haystacks.some((h) => h.includes(f))))
      leaks.push(`${text.length} chars`);
  }
  return { checked, leaks };
}

for (const [label, profile] of [
  ['basic', BASIC_PROFILE],
  ['research', RESEARCH_PROFILE],
] as const) {
  describe(`PHI leak test, ${label} profile, every corpus file`, () => {
    let total = 0;
    for (const f of corpusFiles()) {
      if (BROKEN_FILES[f.path] && !BARE_DATASETS.has(f.path)) continue;
      test(f.path, () => {
        const { checked, leaks } = checkFile(f.path, f.abs, f.transferSyntaxUid, profile);
        total += checked;
        // Report only lengths: the values themselves are patient data.
        assert.deepEqual(leaks, [], `${leaks.length} removed values found in the de-identified bytes`);
      });
    }
    test('the leak test looked at real values', () => {
      assert.ok(total > 1000, `${total} values checked`);
    });
  });
}
