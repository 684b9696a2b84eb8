import assert from 'node:assert/strict';
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { extractQueryAttributes } from '@medgrid/dicom';
import pg from 'pg';
import { encodeAssociateRq } from './dimse/pdu.js';
import {
  CORPUS,
  corpusFiles,
  createTestDatabase,
  phiStrings,
  run,
  startTestGateway,
  tempDir,
} from './testing/harness.js';
import { startOrthanc } from './testing/orthanc.js';
import { freePort } from './testing/peers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CT_SMALL = path.join(CORPUS, 'pydicom/test_files/CT_small.dcm');

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sends raw bytes, collects what comes back until the peer closes (or `ms` pass). */
function exchange(
  port: number,
  bytes: Buffer[],
  ms = 1500,
): Promise<{ reply: Buffer; closedByPeer: boolean }> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    let closedByPeer = false;
    const s = net.connect(port, '127.0.0.1', async () => {
      for (const b of bytes) {
        s.write(b);
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    const timer = setTimeout(() => s.destroy(), ms);
    s.on('data', (c) => got.push(c));
    s.on('end', () => {
      closedByPeer = true;
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ reply: Buffer.concat(got), closedByPeer });
    });
    s.on('error', () => undefined);
  });
}

/** Deterministic PRNG so a failing fuzz case can be replayed. */
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pdata(pcId: number, mch: number, body: Buffer): Buffer {
  const b = Buffer.alloc(12 + body.length);
  b[0] = 4;
  b.writeUInt32BE(6 + body.length, 2);
  b.writeUInt32BE(2 + body.length, 6);
  b[10] = pcId;
  b[11] = mch;
  body.copy(b, 12);
  return b;
}

describe('gateway faults', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  test('fuzzed and malformed PDUs: the association is aborted, the process keeps serving', async () => {
    const t = await startTestGateway();
    cleanups.push(() => t.stop());
    const rq = encodeAssociateRq({
      calledAe: 'MEDGRID',
      callingAe: 'FUZZER',
      contexts: [
        { id: 1, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] },
        { id: 3, abstractSyntax: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxes: ['1.2.840.10008.1.2.1'] },
      ],
      maxPduLength: 16384,
      roles: [],
    });
    // After a good association: broken P-DATA (PDV longer than its PDU, unknown context, dataset without
    // command, a command that is not a DIMSE command set) each get an A-ABORT.
    const broken = [
      (() => {
        const b = pdata(1, 3, Buffer.alloc(10));
        b.writeUInt32BE(0xffff, 6);
        return b;
      })(),
      pdata(99, 3, Buffer.alloc(10)),
      pdata(3, 2, Buffer.alloc(10)),
      pdata(1, 3, Buffer.from('this is not a command set at all')),
      Buffer.from([0x09, 0, 0, 0, 0, 4, 1, 2, 3, 4]),
    ];
    for (const b of broken) {
      const r = await exchange(t.gw.port, [rq, b]);
      assert.equal(r.reply[0], 0x02, 'association accepted first');
      assert.ok(r.reply.includes(Buffer.from([0x07, 0x00, 0x00, 0x00, 0x00, 0x04])), 'then an A-ABORT');
      assert.ok(r.closedByPeer, 'and the gateway closed the connection');
    }
    // Random mutations of a valid A-ASSOCIATE-RQ.
    const rand = mulberry32(20261125);
    const cases: Buffer[] = [];
    for (let i = 0; i < 150; i++) {
      const m = Buffer.from(rq);
      const kind = i % 3;
      if (kind === 0)
        for (let k = 0; k < 1 + Math.floor(rand() * 6); k++)
          m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
      if (kind === 1) m.writeUInt32BE(Math.floor(rand() * m.length), 2);
      const bytes =
        kind === 2
          ? Buffer.concat([
              m.subarray(0, 6 + Math.floor(rand() * (m.length - 6))),
              Buffer.from([7, 0, 0, 0, 0, 4, 0, 0, 0, 0]),
            ])
          : m;
      cases.push(bytes);
    }
    for (let i = 0; i < cases.length; i += 25) {
      const replies = await Promise.all(cases.slice(i, i + 25).map((c) => exchange(t.gw.port, [c], 800)));
      for (const r of replies)
        if (r.reply.length) assert.ok([2, 3, 7].includes(r.reply[0]!), `reply PDU type ${r.reply[0]}`);
    }
    const echo = await run('echoscu', ['-aec', 'MEDGRID', '127.0.0.1', String(t.gw.port)]);
    assert.equal(echo.code, 0, 'still serving after the fuzzing');
  });

  test('several associations at once: parallel storescu, findscu and echoscu all succeed', async () => {
    const t = await startTestGateway();
    cleanups.push(() => t.stop());
    const files = corpusFiles()
      .filter(
        (f) =>
          f.orthanc.startsWith('stored') &&
          /^1\.2\.840\.10008\.1\.2(\.1)?$/.test(f.transferSyntax) &&
          // SOP classes plain storescu proposes by default
          /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.(1|2|4|7|6\.1)$/.test(f.sopClass),
      )
      .map((f) => f.path);
    assert.ok(files.length >= 15, `${files.length} files`);
    const thirds = [0, 1, 2].map((k) => files.filter((_, i) => i % 3 === k));
    const port = String(t.gw.port);
    const results = await Promise.all([
      ...thirds.map((part) => run('storescu', ['-aec', 'MEDGRID', '127.0.0.1', port, ...part])),
      run('findscu', [
        '-S',
        '-aec',
        'MEDGRID',
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        'StudyInstanceUID',
        '127.0.0.1',
        port,
      ]),
      run('echoscu', ['-aec', 'MEDGRID', '127.0.0.1', port]),
    ]);
    for (const r of results) assert.equal(r.code, 0, r.stderr.slice(0, 500));
    await t.gw.ingest.drained();
    const uids = new Set(files.map((f) => extractQueryAttributes(readFileSync(f)).sopInstanceUid));
    const n = await t.gw.vault.query<{ n: string }>('select count(*) as n from vault_instance');
    assert.equal(Number(n.rows[0]!.n), uids.size);
  });

  test('spool disk full: A700, no half-written file, and the gateway keeps working (real tmpfs)', async () => {
    assert.equal(
      process.getuid?.(),
      0,
      'this test mounts a small tmpfs and needs root (CI runs the suite as root)',
    );
    const mnt = tempDir('medgrid-spool-full-');
    const mount = await run('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
    assert.equal(mount.code, 0, mount.stderr);
    cleanups.push(async () => {
      await run('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    });
    const t = await startTestGateway({ MEDGRID_GATEWAY_SPOOL_DIR: path.join(mnt, 'spool') });
    cleanups.push(() => t.stop());
    const big = corpusFiles().find((f) => f.path.endsWith('octave-dicom/CT-MONO2-16-ankle.dcm'))!.path; // 525 kB
    const send = async (files: string[]) => {
      const r = await run('storescu', ['-v', '-aec', 'MEDGRID', '127.0.0.1', String(t.gw.port), ...files]);
      return [...(r.stdout + r.stderr).matchAll(/Received Store Response \((.*?)\)/g)].map((m) => m[1] ?? '');
    };
    const first = await send([CT_SMALL, big]);
    assert.equal(first.length, 2);
    assert.match(first[0]!, /Success/);
    assert.match(first[1]!, /OutOfResources/i, '0xA700 Refused: Out of Resources');
    assert.deepEqual(await send([CT_SMALL]), ['Success'], 'the next instance that fits is stored');
    await t.gw.ingest.drained();
    assert.deepEqual(readdirSync(path.join(mnt, 'spool', 'tmp')), [], 'no partial file left behind');
    const n = await t.gw.vault.query<{ n: string }>('select count(*) as n from vault_instance');
    assert.equal(Number(n.rows[0]!.n), 1, 'the small instance (sent twice) is in the vault once');
    assert.ok(t.gw.errors.list().some((e) => e.where === 'spool' && /ENOSPC/.test(e.message)));
  });

  test('central server down during ingest: C-STORE succeeds, the upload happens later, de-identified only', async () => {
    const httpPort = await freePort();
    const t = await startTestGateway({
      MEDGRID_GATEWAY_STOW_URL: `http://127.0.0.1:${httpPort}/dicom-web/studies`,
      MEDGRID_GATEWAY_STOW_MAX_BACKOFF_MS: '500',
    });
    cleanups.push(() => t.stop());
    const files = corpusFiles()
      .filter(
        (f) =>
          f.orthanc.startsWith('stored') &&
          /pydicom\/test_files\/(CT_small|MR_small|rtplan|JPEG2000|SC_rgb_rle)\.dcm$/.test(f.path),
      )
      .map((f) => f.path);
    assert.equal(files.length, 5);
    const r = await run('dcmsend', ['-aec', 'MEDGRID', '127.0.0.1', String(t.gw.port), ...files]);
    assert.equal(r.code, 0, r.stderr);
    await t.gw.ingest.drained();
    await waitFor('a failed upload attempt', async () =>
      t.gw.errors.list().some((e) => /unreachable/.test(e.message)),
    );
    assert.equal((await t.gw.vault.backlogCounts()).pending, files.length);
    const orthanc = await startOrthanc({ httpPort });
    cleanups.push(() => orthanc.stop());
    await waitFor(
      'the backlog to drain',
      async () => (await t.gw.vault.backlogCounts()).uploaded === files.length,
      60_000,
    );
    const ids = await orthanc.api<string[]>('GET', '/instances');
    assert.equal(ids.length, files.length);
    const phi = await phiStrings(t.gw);
    assert.ok(phi.length >= 3, `PHI strings to look for: ${phi.length}`);
    const originals = new Set(files.map((f) => extractQueryAttributes(readFileSync(f)).sopInstanceUid));
    for (const id of ids) {
      const bytes = Buffer.from(await (await fetch(`${orthanc.url}/instances/${id}/file`)).arrayBuffer());
      const text = bytes.toString('latin1');
      for (const s of phi) assert.ok(!text.includes(s), 'no corpus PHI string in what the server received');
      assert.ok(!originals.has(extractQueryAttributes(bytes).sopInstanceUid), 'UIDs were remapped');
    }
  });

  test('SIGKILL during an association: every instance that got Success reaches the server after a restart', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const dataDir = tempDir();
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const orthanc = await startOrthanc();
    cleanups.push(() => orthanc.stop());
    const port = await freePort();
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      MEDGRID_DATA_DIR: dataDir,
      MEDGRID_GATEWAY_PORT: String(port),
      MEDGRID_GATEWAY_DEID_SECRET: 'kill-test-secret-0123456789',
      MEDGRID_GATEWAY_STOW_URL: `${orthanc.url}/dicom-web/studies`,
      MEDGRID_LOG_LEVEL: 'warn',
    };
    const start = () =>
      new Promise<ChildProcess>((resolve, reject) => {
        const child = fork(path.join(here, 'main.js'), [], {
          env,
          stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
        });
        child.on('message', (m: { type: string; message?: string }) =>
          m.type === 'ready' ? resolve(child) : reject(new Error(m.message)),
        );
        child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
      });
    // Uncompressed corpus files (plain storescu proposes only those), one per SOP Instance UID, in a fixed order.
    const seen = new Set<string>();
    const files: { file: string; uid: string }[] = [];
    for (const f of corpusFiles()) {
      if (!f.orthanc.startsWith('stored') || !/^1\.2\.840\.10008\.1\.2(\.1)?$/.test(f.transferSyntax))
        continue;
      const uid = extractQueryAttributes(readFileSync(f.path)).sopInstanceUid!;
      if (seen.has(uid)) continue;
      seen.add(uid);
      files.push({ file: f.path, uid });
    }
    const list = [...files, ...files.map((f) => ({ ...f, again: true }))];
    let gw = await start();
    const successes: string[] = [];
    await new Promise<void>((resolve) => {
      const scu = spawn(
        'storescu',
        ['-v', '-aec', 'MEDGRID', '127.0.0.1', String(port), ...list.map((f) => f.file)],
        {
          env: { ...process.env, TCP_NODELAY: '1' },
        },
      );
      let buf = '';
      const onData = (d: Buffer) => {
        buf += d.toString();
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (/Received Store Response \(Success\)/.test(line)) {
            successes.push(list[successes.length]!.uid);
            if (successes.length === 12) gw.kill('SIGKILL');
          }
          nl = buf.indexOf('\n');
        }
      };
      scu.stdout.on('data', onData);
      scu.stderr.on('data', onData);
      scu.on('close', () => resolve());
    });
    assert.ok(
      successes.length >= 12 && successes.length < list.length,
      `killed mid-association after ${successes.length}`,
    );
    await new Promise((r) => (gw.exitCode !== null || gw.signalCode ? r(undefined) : gw.once('exit', r)));
    gw = await start();
    cleanups.push(() => {
      gw.kill('SIGTERM');
    });
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const expected = new Set(successes);
    try {
      await waitFor(
        'every acknowledged instance to be uploaded',
        async () => {
          const r = await c.query<{ sop_instance_uid: string }>(
            `select sop_instance_uid from vault_instance where upload_state = 'uploaded'`,
          );
          const have = new Set(r.rows.map((x) => x.sop_instance_uid));
          return [...expected].every((u) => have.has(u));
        },
        90_000,
      );
    } finally {
      await c.end();
    }
    const stats = await orthanc.api<{ CountInstances: number }>('GET', '/statistics');
    assert.ok(stats.CountInstances >= expected.size);
    assert.ok(!existsSync(path.join(dataDir, 'gateway', 'spool', 'failed')), 'nothing was quarantined');
  });
});
