import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ORTHANC_BIN = process.env.MEDGRID_ORTHANC_BIN ?? '/usr/sbin/Orthanc';
const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface OrthancHandle {
  url: string;
  proc: ChildProcess;
  dir: string;
  stop(): Promise<void>;
}

/** A private Orthanc (with DICOMweb) on a free loopback port, with its own temp config and storage. */
export async function startOrthanc(opts: { dicomWeb?: boolean } = {}): Promise<OrthancHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'medgrid-orthanc-'));
  const httpPort = await freePort();
  const dicomPort = await freePort();
  const config = {
    Name: 'medgrid-test',
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'index'),
    HttpPort: httpPort,
    DicomPort: dicomPort,
    DicomServerEnabled: false,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    HttpCompressionEnabled: false,
    StorageCompression: false,
    OverwriteInstances: true,
    Plugins: opts.dicomWeb === false ? [] : [DICOMWEB_PLUGIN],
    DicomWeb: { Enable: true, Root: '/dicom-web/' },
  };
  writeFileSync(join(dir, 'orthanc.json'), JSON.stringify(config));
  const proc = spawn(ORTHANC_BIN, [join(dir, 'orthanc.json')], { stdio: ['ignore', 'ignore', 'pipe'] });
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
  return { url, proc, dir, stop };
}
