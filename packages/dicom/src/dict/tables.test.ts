import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { referenceDir, repoRoot } from '../testing/corpus.fixture.js';
import { ANNEX_E_EDITION, ANNEX_E_ROWS, annexERow } from './annex-e.table.js';
import { implicitVr, keywordOf, lookupTag } from './dictionary.service.js';

const pkg = join(repoRoot(), 'packages', 'dicom');

describe('generated tables', () => {
  test('committed tables equal a fresh generation from the reference JSON', async () => {
    const gen = await import(pathToFileURL(join(pkg, 'scripts', 'generate-tables.mjs')).href);
    const files: Record<string, string> = gen.generate(referenceDir());
    for (const [rel, text] of Object.entries(files)) {
      assert.equal(
        readFileSync(join(pkg, rel), 'utf8'),
        text,
        `${rel} is stale: run pnpm --filter @medgrid/dicom run generate`,
      );
    }
  });

  test('Table E.1-1: 621 rows, edition recorded, masks and exact tags resolve', () => {
    assert.equal(ANNEX_E_ROWS.length, 621);
    assert.equal(ANNEX_E_EDITION, '2024e');
    assert.equal(annexERow(0x00100010)?.basic, 'Z');
    assert.equal(annexERow(0x50020022)?.name, 'Curve Data');
    assert.equal(annexERow(0x60024000)?.name, 'Overlay Comments');
    assert.equal(annexERow(0x60003000)?.name, 'Overlay Data');
    assert.equal(annexERow(0x00280010), undefined);
  });

  test('dictionary: VRs, keywords, repeating groups, private and group-length tags', () => {
    assert.equal(lookupTag(0x00100010)?.vr, 'PN');
    assert.equal(keywordOf(0x0020000d), 'StudyInstanceUID');
    assert.equal(lookupTag(0x60020010)?.keyword, 'OverlayRows');
    assert.equal(implicitVr(0x00090010), 'LO');
    assert.equal(implicitVr(0x00091001), 'UN');
    assert.equal(implicitVr(0x00080000), 'UL');
    const raw = JSON.parse(readFileSync(join(referenceDir(), 'dicom-attributes.json'), 'utf8')) as unknown[];
    assert.ok(raw.length > 5000);
  });
});
