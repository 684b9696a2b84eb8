import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { extractQueryAttributes } from '@medgrid/dicom';
import { MikroORM } from '@mikro-orm/postgresql';
import { migrationsList } from './migrations/index.js';
import { part10DatasetOffset } from './retrieve/retrieve.service.js';
import {
  corpusFiles,
  createTestDatabase,
  phiStrings,
  run,
  startTestGateway,
  type TestGateway,
} from './testing/harness.js';
import { type Orthanc, startOrthanc } from './testing/orthanc.js';
import { freePort } from './testing/peers.js';
import { openVault, vaultOrmConfig } from './vault/orm.js';

const datasetSha = (b: Buffer) =>
  createHash('sha256')
    .update(b.subarray(part10DatasetOffset(b)))
    .digest('hex');

describe('Orthanc as the hospital PACS: store through the gateway, query and retrieve back by C-MOVE', () => {
  let t: TestGateway;
  let orthanc: Orthanc;
  const logs: string[] = [];
  before(async () => {
    const gwPort = await freePort();
    orthanc = await startOrthanc({ modalities: { gw: ['MEDGRID', '127.0.0.1', gwPort] } });
    t = await startTestGateway(
      {
        MEDGRID_GATEWAY_PORT: String(gwPort),
        MEDGRID_GATEWAY_PEERS: `ORTHANC=127.0.0.1:${orthanc.dicomPort}`,
      },
      logs,
    );
  });
  after(async () => {
    await t.stop();
    await orthanc.stop();
  });

  test('a study sent by Orthanc with /modalities/{id}/store comes back by C-MOVE identical', async () => {
    // The corpus study with the most distinct uncompressed instances.
    const byStudy = new Map<string, Map<string, string>>();
    for (const f of corpusFiles()) {
      if (!f.orthanc.startsWith('stored')) continue;
      const a = extractQueryAttributes(readFileSync(f.path));
      if (!a.studyInstanceUid || !a.sopInstanceUid) continue;
      const m = byStudy.get(a.studyInstanceUid) ?? new Map<string, string>();
      if (!m.has(a.sopInstanceUid)) m.set(a.sopInstanceUid, f.path);
      byStudy.set(a.studyInstanceUid, m);
    }
    const [studyUid, members] = [...byStudy.entries()].sort((a, b) => b[1].size - a[1].size)[0]!;
    assert.ok(members.size >= 2, `study with ${members.size} instances`);
    for (const file of members.values()) await orthanc.api('POST', '/instances', readFileSync(file));
    const before = new Map<string, string>();
    const ids = await orthanc.api<string[]>('GET', '/instances');
    for (const id of ids) {
      const tags = await orthanc.api<{ SOPInstanceUID: string }>('GET', `/instances/${id}/simplified-tags`);
      const bytes = Buffer.from(await (await fetch(`${orthanc.url}/instances/${id}/file`)).arrayBuffer());
      before.set(tags.SOPInstanceUID, datasetSha(bytes));
    }
    const studies = await orthanc.api<string[]>('GET', '/studies');
    assert.equal(studies.length, 1);
    const job = await orthanc.api<{ FailedInstancesCount?: number; InstancesCount?: number }>(
      'POST',
      '/modalities/gw/store',
      { Resources: [studies[0]], Synchronous: true },
    );
    assert.equal(job.FailedInstancesCount ?? 0, 0);
    await t.gw.ingest.drained();
    await orthanc.api('DELETE', `/studies/${studies[0]}`);
    assert.deepEqual(await orthanc.api('GET', '/instances'), []);
    // Orthanc queries the gateway (C-FIND) ...
    const q = await orthanc.api<{ ID: string }>('POST', '/modalities/gw/query', {
      Level: 'Study',
      Query: { StudyInstanceUID: studyUid, PatientName: '' },
    });
    const answers = await orthanc.api<string[]>('GET', `/queries/${q.ID}/answers`);
    assert.equal(answers.length, 1);
    // ... and retrieves the study into itself (C-MOVE with Orthanc as the destination).
    await orthanc.api('POST', '/modalities/gw/move', {
      Level: 'Study',
      Resources: [{ StudyInstanceUID: studyUid }],
      TargetAet: orthanc.aeTitle,
      Synchronous: true,
    });
    const after = new Map<string, string>();
    for (const id of await orthanc.api<string[]>('GET', '/instances')) {
      const tags = await orthanc.api<{ SOPInstanceUID: string }>('GET', `/instances/${id}/simplified-tags`);
      const bytes = Buffer.from(await (await fetch(`${orthanc.url}/instances/${id}/file`)).arrayBuffer());
      after.set(tags.SOPInstanceUID, datasetSha(bytes));
    }
    assert.deepEqual(after, before);
  });

  test('status endpoint, Prometheus metrics, and JSON logs without patient data', async () => {
    const base = `http://127.0.0.1:${t.gw.httpPort}`;
    const status = (await (await fetch(`${base}/status`)).json()) as {
      backlog: { spool: number; upload: Record<string, number> };
      peers: { aeTitle: string }[];
      lastErrors: unknown[];
    };
    assert.equal(status.backlog.spool, 0);
    assert.ok(status.backlog.upload.pending! >= 2);
    assert.deepEqual(
      status.peers.map((p) => p.aeTitle),
      ['ORTHANC'],
    );
    assert.ok(Array.isArray(status.lastErrors));
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /medgrid_gateway_dimse_requests_total\{service="C-STORE",status="success"\} \d+/);
    assert.match(metrics, /medgrid_gateway_retrieve_suboperations_total\{outcome="success"\} \d+/);
    // A failing request too, so error paths are logged.
    await run('findscu', ['-S', '-aec', 'MEDGRID', '-k', 'PatientName=*', '127.0.0.1', String(t.gw.port)]);
    assert.ok(logs.length > 3);
    for (const line of logs) JSON.parse(line);
    const phi = await phiStrings(t.gw);
    assert.ok(phi.length >= 1);
    const all = logs.join('\n');
    for (const s of phi) assert.ok(!all.includes(s), 'no patient name or id in the logs');
  });
});

describe('vault migrations', () => {
  test('the migrations describe the entities exactly, in their own table', async () => {
    const db = await createTestDatabase();
    try {
      const orm = await openVault(db.url);
      const diff = (await orm.schema.getUpdateSchemaSQL({ wrap: false })).trim();
      const tables = await orm.em
        .fork()
        .getConnection()
        .execute<{ table_name: string }[]>(
          `select table_name from information_schema.tables where table_schema = 'public' order by 1`,
        );
      await orm.close(true);
      assert.equal(diff, '', 'entities changed without a migration');
      assert.deepEqual(
        tables.map((r) => r.table_name),
        ['gateway_migrations', 'vault_instance'],
      );
      const again = await openVault(db.url);
      await again.close(true);
    } finally {
      await db.drop();
    }
  });

  test('leaving out a migration shows up as a schema difference', async () => {
    const db = await createTestDatabase();
    try {
      const orm = await MikroORM.init(vaultOrmConfig(db.url, migrationsList.slice(0, -1)));
      await orm.migrator.up();
      const diff = (await orm.schema.getUpdateSchemaSQL({ wrap: false })).trim();
      await orm.close(true);
      assert.notEqual(diff, '');
    } finally {
      await db.drop();
    }
  });
});
