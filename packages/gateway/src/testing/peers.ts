import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { part10DatasetOffset } from '../retrieve/retrieve.service.js';

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

export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface StoreScp {
  port: number;
  dir: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** dcmtk storescp writing every received dataset bit for bit (+B) into `dir`. */
export async function startStoreScp(dir: string, aeTitle = 'STORESCP'): Promise<StoreScp> {
  const port = await freePort();
  const proc = spawn('storescp', ['-aet', aeTitle, '+B', '-od', dir, '--accept-all', String(port)], {
    env: { ...process.env, TCP_NODELAY: '1' },
    stdio: 'ignore',
  });
  await waitForPort(port);
  return {
    port,
    dir,
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

/** SHA-256 of the dataset part of a Part 10 file (its file meta is the writer's, not the sender's). */
export function datasetSha(file: string | Buffer): string {
  const b = typeof file === 'string' ? readFileSync(file) : file;
  return createHash('sha256')
    .update(b.subarray(part10DatasetOffset(b)))
    .digest('hex');
}

/** SOP Instance UID (from the file meta) → dataset SHA-256, for every file in a storescp directory. */
export function datasetShasByUid(dir: string): Map<string, string> {
  return new Map([...filesByUid(dir)].map(([k, v]) => [k, v.sha]));
}

/** SOP Instance UID → dataset SHA-256 and transfer syntax (from the file meta) for a storescp directory. */
export function filesByUid(dir: string): Map<string, { sha: string; ts: string }> {
  const out = new Map<string, { sha: string; ts: string }>();
  for (const name of readdirSync(dir)) {
    const b = readFileSync(path.join(dir, name));
    const off = part10DatasetOffset(b);
    const meta = b.subarray(144, off);
    let uid = '';
    let ts = '';
    for (let pos = 0; pos + 8 <= meta.length; ) {
      const tag = meta.readUInt16LE(pos + 2);
      const vr = meta.toString('latin1', pos + 4, pos + 6);
      const long = ['OB', 'OW', 'UN', 'SQ', 'UT'].includes(vr);
      const len = long ? meta.readUInt32LE(pos + 8) : meta.readUInt16LE(pos + 6);
      const v = pos + (long ? 12 : 8);
      if (tag === 0x0003) uid = meta.toString('latin1', v, v + len).replace(/\0+$/, '');
      if (tag === 0x0010) ts = meta.toString('latin1', v, v + len).replace(/\0+$/, '');
      pos = v + len;
    }
    out.set(uid, { sha: createHash('sha256').update(b.subarray(off)).digest('hex'), ts });
  }
  return out;
}

/** movescu arguments for a Study Root C-MOVE of one study from the gateway to `destination`. */
export function moveStudyArgs(
  gatewayPort: number | string,
  studyUid: string,
  opts: { destination?: string; callingAe?: string; calledAe?: string } = {},
): string[] {
  return [
    '-S',
    ...(opts.callingAe ? ['-aet', opts.callingAe] : []),
    '-aec',
    opts.calledAe ?? 'MEDGRID',
    '-aem',
    opts.destination ?? 'STORESCP',
    '-k',
    'QueryRetrieveLevel=STUDY',
    '-k',
    `StudyInstanceUID=${studyUid}`,
    '127.0.0.1',
    String(gatewayPort),
  ];
}
