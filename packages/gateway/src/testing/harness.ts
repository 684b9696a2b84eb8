import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { type GatewayConfig, loadGatewayConfig } from '../config/gateway.config.js';
import { type RunningGateway, startGateway } from '../gateway.js';

export const TEST_ADMIN_URL =
  process.env.MEDGRID_TEST_ADMIN_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
export const CORPUS = process.env.MEDGRID_CORPUS_DIR || '/work/shared/corpus';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh, uniquely named database, dropped afterwards. */
export async function createTestDatabase(prefix = 'medgrid_gw_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const u = new URL(TEST_ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

export function tempDir(prefix = 'medgrid-gw-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestGateway {
  gw: RunningGateway;
  config: GatewayConfig;
  db: TestDatabase;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startTestGateway(
  env: Record<string, string> = {},
  logLines?: string[],
): Promise<TestGateway> {
  const db = await createTestDatabase();
  const dataDir = tempDir();
  const config = loadGatewayConfig({
    MEDGRID_GATEWAY_PORT: '0',
    MEDGRID_GATEWAY_HTTP_PORT: '0',
    DATABASE_URL: db.url,
    MEDGRID_DATA_DIR: dataDir,
    MEDGRID_GATEWAY_DEID_SECRET: 'test-secret-for-the-gateway-suite',
    ...env,
  });
  const log = logLines
    ? pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) })
    : pino({ level: process.env.GW_TEST_LOG ?? 'silent' });
  const gw = await startGateway(config, log);
  return {
    gw,
    config,
    db,
    dataDir,
    async stop() {
      await gw.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a dcmtk tool asynchronously (the SCP under test shares this process's event loop). */
export function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      {
        encoding: 'utf8',
        env: { ...process.env, TCP_NODELAY: '1' },
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        cwd: opts.cwd,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

export interface CorpusFile {
  path: string;
  sopClass: string;
  transferSyntax: string;
  orthanc: string;
}

/** Corpus files with what Orthanc answered to dcmsend (MANIFEST.tsv). */
export function corpusFiles(): CorpusFile[] {
  const lines = readFileSync(path.join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => {
    const c = l.split('\t');
    return {
      path: path.join(CORPUS, c[0]!),
      sopClass: (c[3] ?? '').split(' ')[0]!,
      transferSyntax: (c[5] ?? '').split(' ')[0]!,
      orthanc: c[11] ?? '',
    };
  });
}

/** Strings that identify corpus patients (names and ids from the vault), for leak checks. */
export async function phiStrings(gw: RunningGateway): Promise<string[]> {
  const r = await gw.vault.query<{ patient_name: string | null; patient_id: string | null }>(
    'select distinct patient_name, patient_id from vault_instance',
  );
  const out = new Set<string>();
  for (const row of r.rows) {
    for (const v of [row.patient_name, row.patient_id]) {
      if (!v) continue;
      for (const part of v.split(/[\^=]/))
        if (part.trim().length >= 4 && !/^\d{1,5}$/.test(part.trim())) out.add(part.trim());
    }
  }
  return [...out];
}

/** Polls `fn` until it is true or `ms` pass; resolves to whether it became true. */
export async function until(fn: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 150));
  }
  return false;
}
