import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The monorepo root (this file runs from e2e/dist/support/). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Screenshots and logs of failed runs; git-ignored. */
export function artifactsDir(): string {
  const dir = path.join(repoRoot, 'e2e', 'artifacts');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function artifactName(label: string, ext: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return path.join(artifactsDir(), `${label.replace(/[^\w-]+/g, '_')}-${stamp}.${ext}`);
}
