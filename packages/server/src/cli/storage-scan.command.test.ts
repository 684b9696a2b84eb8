import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { contentPath, StorageWorker } from '@medgrid/worker';
import { pino } from 'pino';
import { account, baseUrl, type Harness, startHarness } from '../auth/test-harness.util.js';
import { medgrid } from './cli-test.util.js';

async function closedPort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * `medgrid storage scan` end to end: the CLI over mutual TLS with an administrator's PKCS#12, the server's
 * storage API, a real storage worker and pg-boss queue on local-directory SEs, and one SE nobody listens on.
 */
describe('medgrid storage scan --se NAME', () => {
  let h: Harness;
  let worker: StorageWorker;
  let client: string[] = [];
  const seDir = (n: string) => path.join(h.dataDir, `se-${n}`);
  const dark = contentPath('e'.repeat(64));

  before(async () => {
    h = await startHarness({ tls: true });
    worker = await StorageWorker.create({
      databaseUrl: h.db.url,
      stageDir: path.join(h.dataDir, 'stage'),
      logger: pino({ level: 'silent' }),
      queue: { retryLimit: 0, retryDelay: 1, pollingIntervalSeconds: 0.5, monitorIntervalSeconds: 1 },
    });
    for (const n of ['alpha', 'beta']) {
      mkdirSync(seDir(n));
      await worker.upsertSe({ name: n, url: pathToFileURL(seDir(n)).href });
    }
    await worker.upsertSe({ name: 'down', url: `davs://127.0.0.1:${await closedPort()}/medgrid` });
    await worker.run();
    mkdirSync(path.dirname(path.join(seDir('alpha'), dark)), { recursive: true });
    writeFileSync(path.join(seDir('alpha'), dark), 'a file the database does not know');

    const admin = await account(h, {
      name: 'Storage Operator',
      facility: 'MedGrid',
      groupPath: '/medgrid',
      roles: ['vo-admin'],
    });
    const p12 = path.join(h.dataDir, 'admin.p12');
    const ca = path.join(h.dataDir, 'chain.pem');
    writeFileSync(p12, admin.pkcs12);
    writeFileSync(ca, h.identity.ca.chainPem);
    writeFileSync(path.join(h.dataDir, 'admin.password'), admin.password);
    client = [
      '--url',
      baseUrl(h),
      '--cert',
      p12,
      '--ca',
      ca,
      '--password-file',
      path.join(h.dataDir, 'admin.password'),
    ];
  });

  after(async () => {
    await worker?.stop(5000);
    await h?.close();
  });

  test('a consistent SE: exit 0 and a zero report', async () => {
    const r = await medgrid(['storage', 'scan', '--se', 'beta', ...client]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^scan of beta: 0 files listed, 0 dark, 0 missing, 0 quarantined, 0 repairs queued$/m,
    );
  });

  test('a dark file: exit 1, the report names it', async () => {
    const r = await medgrid(['storage', 'scan', '--se', 'alpha', ...client]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^scan of alpha: 1 files listed, 1 dark, 0 missing/m);
    assert.match(r.stdout, new RegExp(`^dark ${dark}$`, 'm'));
  });

  test('an SE that cannot be reached: exit 3 with the reason, in one line', async () => {
    const r = await medgrid(['storage', 'scan', '--se', 'down', '--timeout', '60', ...client]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stderr, /^medgrid: the scan of down failed: .+\n$/);
  });

  test('an unknown SE and a doctor certificate are refused by the server', async () => {
    const unknown = await medgrid(['storage', 'scan', '--se', 'nowhere', ...client]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /^medgrid: the server refused: .*nowhere.*\n$/);

    const doctor = await account(h, {
      name: 'Scan Doctor',
      facility: 'Kyiv1',
      groupPath: '/medgrid/kyiv1',
      roles: ['doctor'],
    });
    const p12 = path.join(h.dataDir, 'doctor.p12');
    writeFileSync(p12, doctor.pkcs12);
    const refused = await medgrid(
      [
        'storage',
        'scan',
        '--se',
        'beta',
        '--url',
        baseUrl(h),
        '--cert',
        p12,
        '--ca',
        path.join(h.dataDir, 'chain.pem'),
      ],
      { MEDGRID_P12_PASSWORD: doctor.password },
    );
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /^medgrid: the server refused: .+\n$/);
  });
});
