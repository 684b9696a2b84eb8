import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { lookupTag } from '../dict/dictionary.service.js';
import type { DicomElement } from '../parse/dataset.model.js';
import type { SimpleElement } from '../parse/element.writer.js';
import { parseDicom } from '../parse/parse.service.js';
import { writePart10 } from '../parse/part10.writer.js';
import { findElement, readString, STRING_VRS, valueBytes } from '../parse/value.reader.js';
import { referenceDir } from '../testing/corpus.fixture.js';
import { deidentify } from './deidentify.service.js';
import { type DeidOptions, defineProfile } from './profile.model.js';

interface RefRow {
  tag: string;
  id: string;
  name: string;
  basicProfile: string;
  [opt: string]: string;
}

// Read the reference JSON directly, so this test also checks the generated table the service uses.
const rows: RefRow[] = JSON.parse(
  readFileSync(join(referenceDir(), 'ps3.15-annex-e-table-e1-1.json'), 'utf8'),
);
const CONTAINER = 0x00081115; // Referenced Series Sequence: not in Table E.1-1, so kept and recursed into
const PN_TOKEN = 'Doe';

function tagOfRow(r: RefRow): number | undefined {
  if (r.id.startsWith('gggg')) return undefined;
  const id = r.id.replace('50xxxxxx', '50003000').replace(/^60xx/, '6000');
  if (id.includes('x')) return undefined;
  return Number.parseInt(id, 16) >>> 0;
}

function vrOf(tag: number): string {
  if (tag === 0x00001000 || tag === 0x00001001) return 'UI'; // command group: not in the PS3.6 data dictionary
  if (tag === 0x50003000) return 'OB';
  return lookupTag(tag)?.vr ?? 'UN';
}

function sampleValue(vr: string, n: number): SimpleElement['value'] {
  switch (vr) {
    case 'AE':
      return `STATION${n}`;
    case 'AS':
      return '045Y';
    case 'CS':
      return `VALUE${n}`;
    case 'DA':
      return '20200102';
    case 'DT':
      return '20200102030405';
    case 'TM':
      return '101112';
    case 'DS':
      return `${n}.5`;
    case 'IS':
      return `${n}`;
    case 'PN':
      return `${PN_TOKEN}^Jane${n}`;
    case 'UI':
      return `1.2.826.0.1.3680043.99.${n}`;
    case 'UR':
      return `http://example.org/${n}`;
    case 'LO':
    case 'SH':
    case 'LT':
    case 'ST':
    case 'UT':
    case 'UC':
      return vr === 'SH' ? `S${n} ${PN_TOKEN}` : `Note ${n} on ${PN_TOKEN} 1234567`;
    case 'SQ':
      return [[{ tag: 0x00080100, vr: 'SH', value: `CV${n}` }]];
    default: {
      const b = Buffer.alloc(8);
      b.writeUInt32LE(n, 0);
      return b;
    }
  }
}

function buildDataset(): { file: Buffer; tags: Map<number, { vr: string; row: RefRow }> } {
  const tags = new Map<number, { vr: string; row: RefRow }>();
  const els: SimpleElement[] = [];
  let n = 1;
  for (const r of rows) {
    const tag = tagOfRow(r);
    if (tag === undefined || tag >>> 16 === 0x0002) continue;
    const vr = vrOf(tag);
    tags.set(tag, { vr, row: r });
    els.push({ tag, vr, value: sampleValue(vr, n++) });
  }
  els.push(
    { tag: 0x00090010, vr: 'LO', value: 'ACME 1.0' },
    { tag: 0x00091001, vr: 'LO', value: 'private note' },
  );
  const nested = els.filter((e) => e.tag !== CONTAINER).sort((a, b) => a.tag - b.tag);
  const top = [...els.filter((e) => e.tag !== CONTAINER), { tag: CONTAINER, vr: 'SQ', value: [nested] }];
  const file = writePart10(top, {
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
    sopInstanceUid: '1.2.826.0.1.3680043.99.9999',
  });
  return { file, tags };
}

const OPTION_COLUMNS: [keyof DeidOptions, string][] = [
  ['retainLongitudinalFullDates', 'rtnLongFullDatesOpt'],
  ['retainLongitudinalModifiedDates', 'rtnLongModifDatesOpt'],
  ['cleanDescriptors', 'cleanDescOpt'],
  ['retainUids', 'rtnUIDsOpt'],
  ['retainDeviceIdentity', 'rtnDevIdOpt'],
  ['retainPatientCharacteristics', 'rtnPatCharsOpt'],
  ['retainInstitutionIdentity', 'rtnInstIdOpt'],
  ['cleanGraphics', 'cleanGraphOpt'],
  ['cleanStructuredContent', 'cleanStructContOpt'],
  ['retainSafePrivate', 'rtnSafePrivOpt'],
];

/** The documented resolution of combined codes: the choice conformant for any attribute type. */
function expected(row: RefRow, option: string | undefined, tag: number): string {
  const a = (option && row[option]) || row.basicProfile;
  const resolved =
    ({ 'X/Z': 'Z', 'X/D': 'D', 'Z/D': 'D', 'X/Z/D': 'D', 'X/Z/U*': 'U' } as Record<string, string>)[a] ?? a;
  if ((tag === 0x00100010 || tag === 0x00100020) && resolved === 'Z') return 'D'; // pseudonyms
  return resolved;
}

function check(
  action: string,
  vr: string,
  orig: SimpleElement['value'],
  el: DicomElement | undefined,
  data: Buffer,
  option: string | undefined,
): string | undefined {
  const origStr = typeof orig === 'string' ? orig : undefined;
  const now = el && STRING_VRS.has(el.vr) ? readString(data, el) : undefined;
  switch (action) {
    case 'X':
      return el ? 'present' : undefined;
    case 'Z':
      if (!el) return 'absent';
      return el.valueLength === 0 && !el.items?.length ? undefined : 'not empty';
    case 'K':
      if (!el) return 'absent';
      if (vr === 'SQ') return el.items?.length ? undefined : 'sequence emptied';
      if (origStr !== undefined) return now === origStr ? undefined : 'changed';
      return valueBytes(data, el).equals(orig as Buffer) ? undefined : 'changed';
    case 'D':
      if (!el) return 'absent';
      if (vr === 'SQ') return el.items?.length ? undefined : 'sequence emptied';
      if (el.valueLength === 0) return 'empty';
      if (origStr !== undefined && now === origStr) return 'unchanged';
      return undefined;
    case 'U':
      if (!el) return 'absent';
      if (vr === 'SQ') return el.items?.length ? undefined : 'sequence emptied';
      return now && /^2\.25\.\d+$/.test(now) && now !== origStr ? undefined : 'not remapped';
    case 'C':
      if (!el) return 'absent';
      if (vr === 'SQ') return el.items?.length ? undefined : 'sequence emptied';
      if (vr === 'DA' || vr === 'DT') {
        if (option !== 'rtnLongModifDatesOpt') return undefined;
        return now && /^\d{8}/.test(now) && now !== origStr ? undefined : 'date not shifted';
      }
      if (now !== undefined && (now.includes(PN_TOKEN) || now.includes('1234567'))) return 'not cleaned';
      return undefined;
  }
  return `unknown action ${action}`;
}

describe('Table E.1-1 on a synthetic dataset holding every attribute', () => {
  const { file, tags } = buildDataset();

  test('the synthetic dataset covers every row but the file meta and private rows', () => {
    assert.equal(rows.length, 621);
    assert.ok(tags.size >= 615, `${tags.size} attributes`);
  });

  const cases: [string, Partial<DeidOptions>, string | undefined][] = [
    ['basic profile', {}, undefined],
    ...OPTION_COLUMNS.map(
      ([opt, col]) => [opt, { [opt]: true }, col] as [string, Partial<DeidOptions>, string],
    ),
  ];
  for (const [label, options, column] of cases) {
    test(`${label}: every attribute, top level and inside a sequence`, () => {
      const profile = defineProfile(`t-${label}`, '1', options);
      const r = deidentify(file, { profile, secret: 'table-test-secret-0123456789' });
      const p = parseDicom(r.deidentified);
      const nestedSeq = findElement(p.elements, CONTAINER);
      assert.ok(nestedSeq?.items?.length === 1, 'container sequence kept');
      const levels = [p.elements, nestedSeq.items[0]!.elements];
      const failures: string[] = [];
      let checked = 0;
      let n = 0;
      for (const [tag, { vr, row }] of tags) {
        n++;
        if (tag === CONTAINER) continue;
        const act = expected(row, column, tag);
        for (const [li, level] of levels.entries()) {
          const el = findElement(level, tag);
          const problem = check(act, vr, sampleValue(vr, n), el, p.data, column);
          checked++;
          if (problem) failures.push(`${row.tag} ${row.name} [${li ? 'nested' : 'top'}] ${act}: ${problem}`);
        }
      }
      const priv = findElement(p.elements, 0x00091001);
      if (options.retainSafePrivate)
        assert.equal(priv, undefined, 'private element not on the safe list is removed');
      else assert.equal(priv, undefined);
      assert.deepEqual(failures, []);
      assert.ok(checked > 1200);
    });
  }

  test('Retain Safe Private keeps a listed element and its creator, and drops the rest', () => {
    const file2 = writePart10(
      [
        { tag: 0x00100010, vr: 'PN', value: 'Doe^Jane' },
        { tag: 0x00190010, vr: 'LO', value: 'SIEMENS MR HEADER' },
        { tag: 0x0019100c, vr: 'IS', value: '1000' },
        { tag: 0x00191010, vr: 'LO', value: 'free text' },
        { tag: 0x00290010, vr: 'LO', value: 'OTHER VENDOR' },
        { tag: 0x00291001, vr: 'LO', value: 'secret' },
      ],
      {
        transferSyntaxUid: '1.2.840.10008.1.2.1',
        sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
        sopInstanceUid: '1.2.3',
      },
    );
    const keep = deidentify(file2, {
      profile: defineProfile('safe', '1', { retainSafePrivate: true }),
      secret: 'table-test-secret-0123456789',
    });
    const p = parseDicom(keep.deidentified);
    assert.ok(findElement(p.elements, 0x00190010));
    assert.equal(readString(p.data, findElement(p.elements, 0x0019100c)!), '1000');
    assert.equal(findElement(p.elements, 0x00191010), undefined);
    assert.equal(findElement(p.elements, 0x00290010), undefined);
    assert.equal(findElement(p.elements, 0x00291001), undefined);
    const basic = deidentify(file2, {
      profile: defineProfile('b', '1'),
      secret: 'table-test-secret-0123456789',
    });
    assert.equal(findElement(parseDicom(basic.deidentified).elements, 0x0019100c), undefined);
  });

  test('markers: PatientIdentityRemoved, method, CID 7050 codes, longitudinal flag', () => {
    const profile = defineProfile('m', '1', {
      retainLongitudinalModifiedDates: true,
      cleanDescriptors: true,
    });
    const r = deidentify(file, { profile, secret: 'table-test-secret-0123456789' });
    const p = parseDicom(r.deidentified);
    const s = (tag: number) => readString(p.data, findElement(p.elements, tag)!);
    assert.equal(s(0x00120062), 'YES');
    assert.match(s(0x00120063), /PS3\.15 E\.1-1 2024e/);
    assert.equal(s(0x00280303), 'MODIFIED');
    const codes = findElement(p.elements, 0x00120064)!.items!.map((it) =>
      readString(p.data, findElement(it.elements, 0x00080100)!),
    );
    assert.deepEqual(codes, ['113100', '113105', '113107']);
  });

  test('modified dates: one consistent shift per patient', () => {
    const profile = defineProfile('m', '1', { retainLongitudinalModifiedDates: true });
    const mk = (pid: string, date: string) =>
      writePart10(
        [
          { tag: 0x00080020, vr: 'DA', value: date },
          { tag: 0x00100020, vr: 'LO', value: pid },
        ],
        {
          transferSyntaxUid: '1.2.840.10008.1.2.1',
          sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
          sopInstanceUid: '1.2.3',
        },
      );
    const date = (b: Buffer) => {
      const p = parseDicom(deidentify(b, { profile, secret: 'table-test-secret-0123456789' }).deidentified);
      return readString(p.data, findElement(p.elements, 0x00080020)!);
    };
    const days = (a: string, b: string) =>
      (Date.UTC(+a.slice(0, 4), +a.slice(4, 6) - 1, +a.slice(6)) -
        Date.UTC(+b.slice(0, 4), +b.slice(4, 6) - 1, +b.slice(6))) /
      86_400_000;
    const a1 = date(mk('P1', '20200115'));
    const a2 = date(mk('P1', '20210301'));
    assert.equal(days(a2, a1), days('20210301', '20200115'), 'intervals within a patient are preserved');
    assert.notEqual(a1, '20200115');
    const b1 = date(mk('P2', '20200115'));
    assert.notEqual(days(b1, '20200115'), days(a1, '20200115'), 'another patient gets another shift');
  });
});
