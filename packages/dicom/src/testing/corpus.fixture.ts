import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('repo root (pnpm-workspace.yaml) not found');
    dir = up;
  }
}

export function sharedDir(): string {
  return join(repoRoot(), '..', 'shared');
}

export function corpusDir(): string {
  return process.env.MEDGRID_CORPUS_DIR ?? join(sharedDir(), 'corpus');
}

export function referenceDir(): string {
  return process.env.MEDGRID_REFERENCE_DIR ?? join(sharedDir(), 'reference');
}

export interface CorpusFile {
  path: string;
  abs: string;
  transferSyntaxUid: string;
  notes: string;
  modality: string;
}

let cached: CorpusFile[] | undefined;

/** Files listed in the corpus MANIFEST.tsv (DICOM files only). */
export function corpusFiles(): CorpusFile[] {
  if (cached) return cached;
  const dir = corpusDir();
  const lines = readFileSync(join(dir, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const head = lines[0]!.split('\t');
  const col = (name: string) => head.indexOf(name);
  cached = lines.slice(1).map((l) => {
    const f = l.split('\t');
    return {
      path: f[col('path')]!,
      abs: join(dir, f[col('path')]!),
      transferSyntaxUid: (f[col('transfer_syntax')] ?? '').split(' ')[0]!,
      notes: f[col('notes')] ?? '',
      modality: f[col('modality')] ?? '',
    };
  });
  return cached;
}

/** Files the corpus marks as malformed; a correct parser must reject them with a typed error. */
export const BROKEN_FILES: Record<string, string> = {
  'pydicom/test_files/MR_truncated.dcm': 'TRUNCATED',
  'pydicom/test_files/rtplan_truncated.dcm': 'TRUNCATED',
  'pydicom/test_files/SC_rgb_jpeg.dcm': 'BAD_VR',
  'pydicom/test_files/meta_missing_tsyntax.dcm': 'MISSING_META',
  'pydicom/test_files/no_meta.dcm': 'MISSING_META',
  'pydicom/test_files/ExplVR_BigEndNoMeta.dcm': 'MISSING_META',
  'pydicom/test_files/ExplVR_LitEndNoMeta.dcm': 'MISSING_META',
  'pydicom/test_files/rtstruct.dcm': 'MISSING_META',
  'pydicom/test_files/dicomdirtests/DICOMDIR-nooffset': 'TRUNCATED',
};

/** Bare datasets (or meta without a transfer syntax) that parse once the channel's transfer syntax is given. */
export const BARE_DATASETS = new Set([
  'pydicom/test_files/meta_missing_tsyntax.dcm',
  'pydicom/test_files/ExplVR_BigEndNoMeta.dcm',
  'pydicom/test_files/ExplVR_LitEndNoMeta.dcm',
  'pydicom/test_files/rtstruct.dcm',
]);

export function run(cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'latin1', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
