import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../config/config.js';

const CLI = fileURLToPath(new URL('./medgrid.js', import.meta.url));
const CORPUS = process.env.MEDGRID_CORPUS_DIR || path.resolve(REPO_ROOT, '../shared/corpus');
const CT = path.join(CORPUS, 'pydicom/test_files/CT_small.dcm');

function medgrid(args: string[], env: Record<string, string>) {
  const clean = { ...process.env };
  delete clean.MEDGRID_DEID_SECRET;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...clean, ...env }, encoding: 'utf8' },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    );
  });
}

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

describe('medgrid dicom (through the server CLI)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'medgrid-cli-'));
  const out = mkdtempSync(path.join(tmpdir(), 'medgrid-cli-out-'));

  test('deidentify without --secret-file uses the deployment secret, consistently; restore is byte-exact', async () => {
    const env = { MEDGRID_DATA_DIR: dataDir };
    const a = await medgrid(
      ['dicom', 'deidentify', CT, '--out', `${out}/a.dcm`, '--identity', `${out}/a.id`],
      env,
    );
    assert.equal(a.code, 0, a.stderr);
    const secretFile = path.join(dataDir, 'secrets/deid-secret');
    assert.equal(statSync(secretFile).mode & 0o777, 0o600);
    const b = await medgrid(
      ['dicom', 'deidentify', CT, '--out', `${out}/b.dcm`, '--identity', `${out}/b.id`],
      env,
    );
    assert.equal(b.code, 0, b.stderr);
    assert.equal(
      sha(`${out}/a.dcm`),
      sha(`${out}/b.dcm`),
      'same secret, same input: same de-identified bytes',
    );
    assert.notEqual(sha(`${out}/a.dcm`), sha(CT));
    const r = await medgrid(
      ['dicom', 'restore', `${out}/a.dcm`, '--identity', `${out}/a.id`, '--out', `${out}/r.dcm`],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(`${out}/r.dcm`), sha(CT));
  });

  test('another deployment secret gives other UIDs', async () => {
    const other = mkdtempSync(path.join(tmpdir(), 'medgrid-cli-'));
    const c = await medgrid(
      ['dicom', 'deidentify', CT, '--out', `${out}/c.dcm`, '--identity', `${out}/c.id`],
      {
        MEDGRID_DATA_DIR: other,
      },
    );
    assert.equal(c.code, 0, c.stderr);
    assert.notEqual(sha(`${out}/c.dcm`), sha(`${out}/a.dcm`));
  });

  test('a file that is not DICOM fails with one line and a code', async () => {
    const r = await medgrid(['dicom', 'dump', '/etc/hostname'], { MEDGRID_DATA_DIR: dataDir });
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /^[A-Z_]+: /);
  });
});
