// A private Orthanc (with the DICOMweb plugin) for the third-party client tests (not a test file itself).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ORTHANC_BIN = process.env.MEDGRID_ORTHANC_BIN ?? '/usr/sbin/Orthanc';
const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface OrthancPeer {
  url: string;
  proc: ChildProcess;
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/** Orthanc on a free loopback port, with `servers` as its DICOMweb peers and `caFile` to verify HTTPS peers. */
export async function startOrthancPeer(opts: {
  servers: Record<string, Record<string, unknown>>;
  caFile: string;
}): Promise<OrthancPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'medgrid-orthanc-client-'));
  const httpPort = await freePort();
  const config = {
    Name: 'medgrid-dicomweb-client-test',
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'index'),
    HttpPort: httpPort,
    DicomServerEnabled: false,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    HttpCompressionEnabled: false,
    StorageCompression: false,
    HttpsVerifyPeers: true,
    HttpsCACertificates: opts.caFile,
    HttpTimeout: 60,
    Plugins: [DICOMWEB_PLUGIN],
    DicomWeb: { Enable: true, Root: '/dicom-web/', Servers: opts.servers },
  };
  writeFileSync(join(dir, 'orthanc.json'), JSON.stringify(config));
  const proc = spawn(ORTHANC_BIN, [join(dir, 'orthanc.json')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 16384) stderr += d.toString();
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
      if ((await fetch(`${url}/system`)).ok) break;
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
    proc,
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
