import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { MedgridConfig } from '../config/config.js';
import { BlindIndex, KeyRing, parseKey } from '../crypto/envelope.js';
import { deidSecret, deploymentSecret } from '../secrets/deployment-secret.service.js';

/** Per-process state of the studies domain: keys, blind index, de-identification secret and spool. */
export class StudiesRuntime {
  constructor(
    readonly keys: KeyRing,
    readonly blind: BlindIndex,
    readonly deidSecret: string,
    readonly spoolDir: string,
    readonly publicUrl: string,
    readonly maxUploadBytes: number,
  ) {
    mkdirSync(spoolDir, { recursive: true, mode: 0o700 });
  }

  static open(config: MedgridConfig, env: Record<string, string | undefined> = process.env): StudiesRuntime {
    const kek = parseKey(config.studies.kek ?? deploymentSecret(config.dataDir, 'kek'), 'MEDGRID_KEK');
    const previous = config.studies.kekPrevious.map((k) => parseKey(k, 'MEDGRID_KEK_PREVIOUS'));
    const secret = deidSecret(config.dataDir, env);
    return new StudiesRuntime(
      new KeyRing(kek, previous),
      new BlindIndex(secret),
      secret,
      path.join(config.dataDir, 'spool'),
      config.identity.publicUrl,
      config.studies.maxUploadBytes,
    );
  }

  /** Spool file of a de-identified object: named by the SHA-256 of its bytes only. */
  spoolPath(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('bad object name');
    return path.join(this.spoolDir, sha256.slice(0, 2), `${sha256}.dcm`);
  }
}
