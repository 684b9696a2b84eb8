import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type MedgridConfig } from '../config/config.js';
import { migrateUp, openOrm } from '../db/orm.js';
import { ensureServiceCertificate, type ServiceCredentials } from '../identity/service-account.service.js';
import type { ChildMessage } from './child-protocol.js';

interface Child {
  name: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
}

const CLI = fileURLToPath(new URL('../cli/medgrid.js', import.meta.url));
const say = (line: string) => process.stdout.write(`medgrid: ${line}\n`);

function withDatabase(baseUrl: string, db: string): string {
  const u = new URL(baseUrl);
  u.pathname = `/${db}`;
  return u.toString();
}

/**
 * `medgrid start`: the whole system on one machine. Starts (or joins) the embedded PostgreSQL when
 * DATABASE_URL is unset, applies migrations, then runs server, worker and gateway as child
 * processes and stops them all, PostgreSQL last, on Ctrl-C.
 */
export async function startCommand(): Promise<void> {
  const config = loadConfig();
  mkdirSync(config.dataDir, { recursive: true });
  const children: Child[] = [];
  let stopping = false;

  const spawnChild = (name: string, modulePath: string, args: string[], env: NodeJS.ProcessEnv): Child => {
    // Own process group: a terminal Ctrl-C reaches only the supervisor, which then stops children in order.
    const proc = fork(modulePath, args, {
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: true,
    });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const child = { name, proc, exited };
    children.push(child);
    void exited.then((code) => {
      if (!stopping) {
        say(`${name} exited unexpectedly (code ${code}); stopping`);
        void stopAll(1);
      }
    });
    return child;
  };

  const waitReady = (child: Child, timeoutMs: number) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${child.name} did not become ready in ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      child.proc.on('message', (m: ChildMessage) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          resolve(m.detail ?? {});
        } else if (m.type === 'fatal') {
          clearTimeout(timer);
          reject(new Error(m.message));
        }
      });
      void child.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${child.name} exited during start-up (code ${code})`));
      });
    });

  const stopChild = async (child: Child) => {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
    child.proc.kill('SIGTERM');
    const killer = setTimeout(() => child.proc.kill('SIGKILL'), config.shutdownTimeoutMs + 2000);
    await child.exited;
    clearTimeout(killer);
  };

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    // Reverse start order: the database goes last.
    for (const child of [...children].reverse()) await stopChild(child);
    process.exit(code);
  };
  process.on('SIGINT', () => {
    say('stopping');
    void stopAll(0);
  });
  process.on('SIGTERM', () => void stopAll(0));

  try {
    let databaseUrl = config.databaseUrl;
    let gatewayDatabaseUrl = process.env.MEDGRID_GATEWAY_DATABASE_URL || config.databaseUrl;
    if (!databaseUrl) {
      const db = spawnChild('postgres', CLI, ['internal', 'embedded-postgres'], process.env);
      const detail = await waitReady(db, 120_000);
      databaseUrl = withDatabase(String(detail.url), 'medgrid');
      gatewayDatabaseUrl = withDatabase(String(detail.url), 'medgrid_gateway');
      say(`embedded PostgreSQL running (data in ${config.dataDir}/postgres)`);
    }
    const orm = await openOrm(databaseUrl);
    let gatewayCredentials: ServiceCredentials | undefined;
    try {
      const applied = await migrateUp(orm);
      if (applied.length) say(`applied ${applied.length} migration(s)`);
      // Before the server starts: on a first start this also creates the CA, so no two processes race to.
      if (wantsGatewayCredentials(config)) {
        gatewayCredentials = await ensureServiceCertificate(config, orm, {
          ...GATEWAY_SERVICE_ACCOUNT,
          dir: path.join(config.dataDir, 'tls', 'gateway'),
          basename: 'gateway',
        });
        if (gatewayCredentials.outcome === 'revoked') {
          say(
            `the gateway's certificate (serial ${gatewayCredentials.serialHex}) is revoked: its uploads will be refused; remove ${gatewayCredentials.certFile} to have a new one issued`,
          );
        }
      }
    } finally {
      await orm.close(true);
    }

    const env = { ...process.env, DATABASE_URL: databaseUrl, MEDGRID_DATA_DIR: config.dataDir };
    const server = spawnChild('server', CLI, ['serve'], env);
    // The server's migrations own the storage tables, so the worker must not create them itself.
    const worker = spawnChild('worker', fileURLToPath(import.meta.resolve('@medgrid/worker/main')), [], {
      ...env,
      MEDGRID_WORKER_SCHEMA: 'off',
    });
    const workerReady = waitReady(worker, 60_000);
    workerReady.catch(() => undefined);
    const s = await waitReady(server, 60_000);
    // The gateway uploads (STOW-RS) and retrieves (WADO-RS) over the server's HTTPS listener with its certificate.
    const tlsUrl = httpsUrlOf(s);
    const gateway = spawnChild('gateway', fileURLToPath(import.meta.resolve('@medgrid/gateway/main')), [], {
      ...env,
      DATABASE_URL: gatewayDatabaseUrl,
      ...(gatewayCredentials && tlsUrl ? gatewayUploadEnv(tlsUrl, gatewayCredentials) : {}),
    });
    const [, g] = await Promise.all([workerReady, waitReady(gateway, 60_000)]);
    printUrls(
      config,
      String(s.url),
      tlsUrl,
      g,
      gatewayCredentials && tlsUrl ? tlsUrl : process.env.MEDGRID_GATEWAY_STOW_URL,
    );
    say('ready (Ctrl-C stops everything)');
    // The gateway re-reads its certificate files when they change, so a renewal needs no restart.
    if (gatewayCredentials && databaseUrl) {
      const url = databaseUrl;
      setInterval(() => void renewGatewayCertificate(config, url), RENEW_CHECK_MS).unref();
    }
  } catch (err) {
    process.stderr.write(`medgrid: ${(err as Error).message.split('\n')[0]}\n`);
    await stopAll(1);
  }
}

const RENEW_CHECK_MS = 12 * 3600 * 1000;

/** Re-issues the embedded gateway's certificate when it nears its end (and keeps AUP and membership current). */
async function renewGatewayCertificate(config: MedgridConfig, databaseUrl: string): Promise<void> {
  try {
    const orm = await openOrm(databaseUrl);
    try {
      const c = await ensureServiceCertificate(config, orm, {
        ...GATEWAY_SERVICE_ACCOUNT,
        dir: path.join(config.dataDir, 'tls', 'gateway'),
        basename: 'gateway',
      });
      if (c.outcome === 'issued') say(`the gateway's certificate was renewed (serial ${c.serialHex})`);
    } finally {
      await orm.close(true);
    }
  } catch (err) {
    say(`gateway certificate check failed: ${(err as Error).message.split('\n')[0]}; tried again later`);
  }
}

/** The embedded gateway's account: a service user holding the `gateway` role in the VO's root group. */
export const GATEWAY_SERVICE_ACCOUNT = {
  name: 'Embedded Gateway',
  facility: 'MedGrid',
  groupPath: '/medgrid',
  role: 'gateway',
} as const;

/** The supervisor wires the gateway to the server unless the operator configured its upload or certificate. */
function wantsGatewayCredentials(config: MedgridConfig): boolean {
  const serverHasHttps = config.tlsPort !== undefined || Boolean(config.tls) || config.identity.tlsFromCa;
  return serverHasHttps && !process.env.MEDGRID_GATEWAY_STOW_URL && !process.env.MEDGRID_GATEWAY_TLS_CERT;
}

/** The server's HTTPS base URL from its ready message: the mTLS listener, or the main one when it is HTTPS. */
function httpsUrlOf(ready: Record<string, unknown>): string | undefined {
  const raw = typeof ready.tlsUrl === 'string' ? ready.tlsUrl : String(ready.url ?? '');
  if (!raw.startsWith('https:')) return undefined;
  const u = new URL(raw);
  // The server certificate names localhost, 127.0.0.1 and ::1; a wildcard bind is reached over loopback.
  if (u.hostname === '0.0.0.0' || u.hostname === '[::]') u.hostname = '127.0.0.1';
  return u.origin;
}

export function gatewayUploadEnv(tlsUrl: string, c: ServiceCredentials): Record<string, string> {
  return {
    MEDGRID_GATEWAY_STOW_URL: `${tlsUrl}/dicomweb/studies`,
    MEDGRID_GATEWAY_WADO_URL: `${tlsUrl}/dicomweb`,
    MEDGRID_GATEWAY_TLS_CERT: c.certFile,
    MEDGRID_GATEWAY_TLS_KEY: c.keyFile,
    MEDGRID_GATEWAY_TLS_CA: c.caFile,
  };
}

function printUrls(
  config: MedgridConfig,
  base: string,
  tlsUrl: string | undefined,
  gateway: Record<string, unknown>,
  gatewayUpload: string | undefined,
): void {
  say(`doctor app    ${base}/`);
  say(`admin app     ${base}/admin/`);
  say(`GraphQL       ${base}/graphql`);
  say(`health        ${base}/healthz`);
  if (tlsUrl && tlsUrl !== base) {
    say(`HTTPS (mTLS)  ${tlsUrl}/  (CA ${base}/ca/ca.pem; client certificates from the MedGrid CA)`);
  }
  say(
    `DICOM gateway ${String(gateway.aeTitle ?? config.gatewayAeTitle)}@${config.host}:${String(gateway.port ?? config.gatewayPort)}${gatewayUpload ? ` (uploads to ${new URL(gatewayUpload).origin})` : ' (no upload configured)'}`,
  );
}
