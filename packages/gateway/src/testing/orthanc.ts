import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './peers.js';

export const ORTHANC_BIN = process.env.MEDGRID_ORTHANC_BIN ?? '/usr/sbin/Orthanc';
const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export interface Orthanc {
  url: string;
  dicomPort: number;
  aeTitle: string;
  proc: ChildProcess;
  dir: string;
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/** A private Orthanc (DIMSE + DICOMweb plugin) on free loopback ports, with its own config and storage. */
export async function startOrthanc(
  opts: { aeTitle?: string; httpPort?: number; modalities?: Record<string, [string, string, number]> } = {},
): Promise<Orthanc> {
  const dir = mkdtempSync(join(tmpdir(), 'medgrid-gw-orthanc-'));
  const httpPort = opts.httpPort ?? (await freePort());
  const dicomPort = await freePort();
  const aeTitle = opts.aeTitle ?? 'ORTHANC';
  const config = {
    Name: 'medgrid-gateway-test',
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'index'),
    HttpPort: httpPort,
    DicomPort: dicomPort,
    DicomAet: aeTitle,
    DicomServerEnabled: true,
    DicomCheckCalledAet: false,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    HttpCompressionEnabled: false,
    StorageCompression: false,
    OverwriteInstances: true,
    DicomModalities: opts.modalities ?? {},
    Plugins: [DICOMWEB_PLUGIN],
    DicomWeb: { Enable: true, Root: '/dicom-web/' },
  };
  writeFileSync(join(dir, 'orthanc.json'), JSON.stringify(config));
  const proc = spawn(ORTHANC_BIN, [join(dir, 'orthanc.json')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TCP_NODELAY: '1' },
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString();
  });
  const url = `http://127.0.0.1:${httpPort}`;
  const stop = async () => {
    if (proc.exitCode === null) {
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`Orthanc exited early: ${stderr.slice(0, 400)}`);
    }
    try {
      const r = await fetch(`${url}/system`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error('Orthanc did not start within 20 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dicomPort,
    aeTitle,
    proc,
    dir,
    async api<T>(method: string, path: string, body?: unknown): Promise<T> {
      const r = await fetch(`${url}${path}`, {
        method,
        body:
          body === undefined
            ? undefined
            : Buffer.isBuffer(body) || typeof body === 'string'
              ? body
              : JSON.stringify(body),
      });
      const text = await r.text();
      if (!r.ok) throw new Error(`Orthanc ${method} ${path}: HTTP ${r.status} ${text.slice(0, 300)}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    stop,
  };
}
