import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A per-deployment secret kept under `<dataDir>/secrets/<name>` (created once, mode 0600).
 * The de-identification secret keys the UID and pseudonym HMACs: the same secret must be used for the
 * life of the deployment, or the same patient would get new pseudonyms and UIDs.
 */
export function deploymentSecret(dataDir: string, name: string): string {
  const dir = path.join(dataDir, 'secrets');
  const file = path.join(dir, name);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('hex');
  try {
    // 'wx': when two processes race, the loser reads the winner's secret.
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw err;
  }
}

/** The de-identification secret: MEDGRID_DEID_SECRET when set, otherwise the data directory's. */
export function deidSecret(dataDir: string, env: Record<string, string | undefined> = process.env): string {
  return env.MEDGRID_DEID_SECRET || deploymentSecret(dataDir, 'deid-secret');
}
