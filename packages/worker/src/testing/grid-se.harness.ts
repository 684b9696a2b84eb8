import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { SeCredentials } from '../backends/credentials.util.js';

const run = promisify(execFile);

function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'pnpm-workspace.yaml'))) {
    const up = resolve(d, '..');
    if (up === d) throw new Error('repo root not found');
    d = up;
  }
  return d;
}

export const GRID_SE_SCRIPT = join(repoRoot(), 'scripts', 'grid-se.sh');

/** The two real XRootD SEs of scripts/grid-se.sh, in a throwaway directory. */
export class GridSe {
  readonly dir: string;
  env: Record<string, string> = {};

  constructor(dir?: string) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), 'medgrid-se-'));
  }

  async start(): Promise<this> {
    await run('bash', [GRID_SE_SCRIPT, 'start', this.dir], { timeout: 60_000 });
    this.env = Object.fromEntries(
      readFileSync(join(this.dir, 'se.env'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z0-9_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    return this;
  }

  async stop(): Promise<void> {
    await run('bash', [GRID_SE_SCRIPT, 'stop', this.dir], { timeout: 60_000 });
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Kills one SE's xrootd (SIGKILL by default: an SE that vanishes mid-transfer). */
  kill(se: 1 | 2, signal: NodeJS.Signals = 'SIGKILL'): void {
    const pid = Number(readFileSync(this.v(`MEDGRID_SE${se}_PIDFILE`), 'utf8').trim());
    process.kill(pid, signal);
  }

  v(key: string): string {
    const val = this.env[key];
    if (val === undefined) throw new Error(`grid-se env has no ${key}`);
    return val;
  }

  url(se: 1 | 2): string {
    return this.v(`MEDGRID_SE${se}_URL`);
  }

  data(se: 1 | 2): string {
    return this.v(`MEDGRID_SE${se}_DATA`);
  }

  robot(): SeCredentials {
    return {
      certFile: this.v('MEDGRID_ROBOT_CERT'),
      keyFile: this.v('MEDGRID_ROBOT_KEY'),
      caDir: this.v('MEDGRID_SE_CAPATH'),
    };
  }

  intruder(): SeCredentials {
    return {
      certFile: this.v('MEDGRID_INTRUDER_CERT'),
      keyFile: this.v('MEDGRID_INTRUDER_KEY'),
      caFile: this.v('MEDGRID_SE_CA'),
    };
  }

  foreign(): SeCredentials {
    return {
      certFile: this.v('MEDGRID_FOREIGN_CERT'),
      keyFile: this.v('MEDGRID_FOREIGN_KEY'),
      caFile: this.v('MEDGRID_SE_CA'),
    };
  }

  /** davix arguments authenticating as the robot. */
  davixAuth(): string[] {
    return [
      '--capath',
      this.v('MEDGRID_SE_CAPATH'),
      '--cert',
      this.v('MEDGRID_ROBOT_CERT'),
      '--key',
      this.v('MEDGRID_ROBOT_KEY'),
    ];
  }

  httpsUrl(se: 1 | 2): string {
    return this.v(`MEDGRID_SE${se}_HTTPS_URL`);
  }
}
