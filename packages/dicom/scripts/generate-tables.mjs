#!/usr/bin/env node
// Generates src/dict/*.generated.ts from the shared DICOM reference JSON (PS3.15 Table E.1-1 and PS3.6).
// Usage: node scripts/generate-tables.mjs [--check] [--ref DIR]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = resolve(here, '..');

function findRepoRoot(start) {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('repo root not found');
    dir = up;
  }
}

export function defaultReferenceDir() {
  return process.env.MEDGRID_REFERENCE_DIR ?? join(findRepoRoot(pkgDir), '..', 'shared', 'reference');
}

export const EDITION = '2024e';
const OPTION_KEYS = [
  'rtnLongFullDatesOpt',
  'rtnLongModifDatesOpt',
  'cleanDescOpt',
  'rtnUIDsOpt',
  'rtnDevIdOpt',
  'rtnPatCharsOpt',
  'rtnInstIdOpt',
  'cleanGraphOpt',
  'cleanStructContOpt',
  'rtnSafePrivOpt',
];

export function generate(refDir) {
  const rows = JSON.parse(readFileSync(join(refDir, 'ps3.15-annex-e-table-e1-1.json'), 'utf8'));
  const dict = JSON.parse(readFileSync(join(refDir, 'dicom-attributes.json'), 'utf8'));
  const table = {
    generatedBy: 'scripts/generate-tables.mjs',
    source: 'ps3.15-annex-e-table-e1-1.json',
    edition: EDITION,
    rows: rows.map((r) => {
      const opts = {};
      for (const k of OPTION_KEYS) if (r[k]) opts[k] = r[k];
      const tag = r.id === 'ggggeeee-where-gggg-is-odd' ? 'private' : r.id.toLowerCase();
      return { tag, name: r.name, basic: r.basicProfile, opts };
    }),
  };
  const dictLines = dict
    .filter((d) => /^[0-9a-fx]{8}$/.test(d.id))
    .map((d) => `${d.id.toLowerCase()}\t${d.valueRepresentation}\t${d.keyword}\t${d.valueMultiplicity}`);
  const dictionary = {
    generatedBy: 'scripts/generate-tables.mjs',
    source: 'dicom-attributes.json',
    edition: EDITION,
    format: 'tag (x = any hex digit) TAB VR TAB keyword TAB VM, one per line',
    data: dictLines.join('\n'),
  };
  return {
    'src/dict/annex-e.generated.json': `${JSON.stringify(table, null, 0).replace(/\},\{"tag"/g, '},\n{"tag"')}\n`,
    'src/dict/dictionary.generated.json': `${JSON.stringify(dictionary)}\n`,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const refIdx = process.argv.indexOf('--ref');
  const refDir = refIdx > 0 ? process.argv[refIdx + 1] : defaultReferenceDir();
  const files = generate(refDir);
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [rel, text] of Object.entries(files)) {
    const path = join(pkgDir, rel);
    if (check) {
      const cur = existsSync(path) ? readFileSync(path, 'utf8') : '';
      if (cur !== text) {
        console.error(`stale: ${rel}`);
        stale++;
      }
    } else writeFileSync(path, text);
  }
  process.exit(stale ? 1 : 0);
}
