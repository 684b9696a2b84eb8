import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { artifactName, repoRoot } from './paths.js';
import { descendants, killAll, survivors } from './processes.js';

/** The README's start command, relative to the repo root. */
export const medgridCli = 'packages/server/dist/cli/medgrid.js';

export interface StopReport {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Processes started by the system that were still alive after it exited. */
  leftovers: { pid: number; cmdline: string }[];
  /** Command lines of every process seen under the system while it ran (what the leftover check covered). */
  seen: string[];
  stopMs: number;
}

export interface RunningSystem {
  baseUrl: string;
  port: number;
  /** The server's HTTPS (mTLS) listener. */
  tlsPort: number;
  gatewayPort: number;
  dataDir: string;
  readyMs: number;
  /** Everything the system printed so far. */
  output(): string;
  /** Writes the output to e2e/artifacts/ and returns the file's path (for failed runs). */
  saveLog(label: string): string;
  /** SIGINT, as Ctrl-C in a terminal; waits for the exit and reports any process left behind. */
  stop(): Promise<StopReport>;
  /** Last-resort cleanup for failed runs: SIGKILL everything that is left. */
  kill(): void;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

async function isReady(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

export async function startSystem(
  options: { readyTimeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunningSystem> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const port = await freePort();
  let gatewayPort = await freePort();
  while (gatewayPort === port) gatewayPort = await freePort();
  let tlsPort = await freePort();
  while (tlsPort === port || tlsPort === gatewayPort) tlsPort = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'medgrid-e2e-'));
  const baseUrl = `http://127.0.0.1:${port}`;

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MEDGRID_DATA_DIR: dataDir,
    MEDGRID_PORT: String(port),
    MEDGRID_GATEWAY_PORT: String(gatewayPort),
    MEDGRID_TLS_PORT: String(tlsPort),
    ...options.env,
  };
  // DATABASE_URL passes through when set; an empty one means "embedded", as when unset.
  if (!env.DATABASE_URL) delete env.DATABASE_URL;

  let output = '';
  const saveLog = (label: string) => {
    const file = artifactName(label, 'log');
    writeFileSync(file, output);
    return file;
  };
  const started = performance.now();
  const child: ChildProcess = spawn('pnpm', ['exec', 'node', medgridCli, 'start'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      output += chunk;
    });
  }

  // Orphans get re-parented, so remember every descendant ever seen.
  const seen = new Map<number, string>();
  const track = () => {
    for (const p of descendants(child.pid!)) seen.set(p.pid, p.cmdline);
  };
  const tracker = setInterval(track, 250);

  const kill = () => {
    clearInterval(tracker);
    track();
    killAll([...seen.keys(), child.pid!]);
  };

  // Ready when the "medgrid: ready" line appears or /readyz answers 200, whichever comes first.
  const deadline = started + readyTimeoutMs;
  while (!/medgrid: ready/.test(output) && !(await isReady(baseUrl))) {
    if (hasExited) {
      kill();
      throw new Error(
        `medgrid exited before it was ready (log: ${saveLog('system-start')}):\n${output.slice(-4000)}`,
      );
    }
    if (performance.now() > deadline) {
      kill();
      throw new Error(
        `medgrid not ready after ${readyTimeoutMs} ms (log: ${saveLog('system-start')}):\n${output.slice(-4000)}`,
      );
    }
    await sleep(200);
  }
  const readyMs = Math.round(performance.now() - started);

  const stop = async (): Promise<StopReport> => {
    track();
    const t0 = performance.now();
    child.kill('SIGINT');
    const timeout = sleep(60_000, undefined, { ref: false }).then(() => 'timeout' as const);
    const result = await Promise.race([exited, timeout]);
    clearInterval(tracker);
    if (result === 'timeout') {
      kill();
      throw new Error(`medgrid did not exit within 60 s of SIGINT (log: ${saveLog('system-stop')})`);
    }
    const stopMs = Math.round(performance.now() - t0);
    // Give processes that are already exiting a moment before calling them leftovers.
    let left = survivors(seen.keys(), dataDir);
    for (let i = 0; i < 20 && left.length > 0; i++) {
      await sleep(100);
      left = survivors(seen.keys(), dataDir);
    }
    killAll(left.map((p) => p.pid));
    rmSync(dataDir, { recursive: true, force: true });
    const [exitCode, signal] = result;
    return {
      exitCode,
      signal,
      leftovers: left.map(({ pid, cmdline }) => ({ pid, cmdline })),
      seen: [...seen.values()],
      stopMs,
    };
  };

  return { baseUrl, port, tlsPort, gatewayPort, dataDir, readyMs, output: () => output, saveLog, stop, kill };
}

/** Asks the server for its version directly, bypassing the apps. */
export async function graphqlVersion(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ version }' }),
  });
  if (!res.ok) throw new Error(`POST /graphql answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { data?: { version?: unknown }; errors?: unknown };
  if (typeof body.data?.version !== 'string')
    throw new Error(`unexpected GraphQL answer ${JSON.stringify(body)}`);
  return body.data.version;
}
