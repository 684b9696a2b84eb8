import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { extractQueryAttributes, identifyingValues, phiEncodings, phiFound } from '@medgrid/dicom';
import { filesByUid, moveStudyArgs, type StoreScp, startStoreScp } from '@medgrid/gateway/testing';
import { repoRoot } from './support/paths.js';
import { freePort, type RunningSystem, startSystem } from './support/system.js';

const CORPUS = process.env.MEDGRID_CORPUS_DIR || path.resolve(repoRoot, '../shared/corpus');
const ADMIN_URL = new URL(
  process.env.MEDGRID_TEST_ADMIN_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
);

interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutMs = 300_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      {
        encoding: 'buffer',
        env: { ...process.env, TCP_NODELAY: '1' },
        timeout: timeoutMs,
        maxBuffer: 512 * 1024 * 1024,
      },
      (err, stdout, stderr) =>
        resolve({
          code: err ? (typeof err.code === 'number' ? err.code : 1) : 0,
          stdout,
          stderr: stderr.toString('utf8'),
        }),
    );
  });
}

/** libpq options for the machine PostgreSQL the test suites use. */
const pgArgs = () => [
  '-h',
  ADMIN_URL.hostname,
  '-p',
  ADMIN_URL.port || '5432',
  '-U',
  decodeURIComponent(ADMIN_URL.username || 'postgres'),
];

function dbUrl(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function psql(db: string, sql: string): Promise<string> {
  const r = await run('psql', [...pgArgs(), '-d', db, '-At', '-c', sql]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.toString('utf8').trim();
}

function httpsGet(url: string, tls: { ca: Buffer; cert: Buffer; key: Buffer }) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    https
      .get(url, { ...tls, agent: false, headers: { accept: 'application/dicom+json' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

async function until(what: string, fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

const emptyDir = (dir: string) => {
  for (const f of readdirSync(dir)) rmSync(path.join(dir, f), { recursive: true, force: true });
};

/**
 * The acceptance of the gateway in the embedded system, with peers we did not write: dcmtk storescu stores corpus
 * files into the gateway that `medgrid start` runs; they reach the server (QIDO-RS over mutual TLS) and the SE; the
 * server's database dump and every SE file hold no corpus patient's name, ID or birth date; with the gateway's
 * local cache emptied, movescu and getscu bring back datasets byte-identical (SHA-256) to what storescu sent.
 *
 * The system uses the machine PostgreSQL (two scratch databases: the server's and the gateway's vault) instead of
 * the embedded one, only because the embedded PostgreSQL 18 ships no pg_dump and Debian's pg_dump 15 refuses a
 * newer server.
 */
describe('gateway in the embedded system: C-STORE → server and SE without PHI → C-MOVE/C-GET byte-exact', () => {
  const suffix = randomBytes(4).toString('hex');
  const serverDb = `medgrid_e2e_gw_${suffix}`;
  const vaultDb = `medgrid_e2e_vault_${suffix}`;
  let sys: RunningSystem | undefined;
  let ref: StoreScp;
  let dest: StoreScp;
  const dirs: string[] = [];
  let gatewayHttp: number;
  /** What storescu put on the wire, as a bit-preserving storescp received it: SOP Instance UID → dataset SHA-256. */
  let expected: Map<string, string>;
  let sent: { file: string; study: string; modality: string; ts: string }[] = [];

  before(async () => {
    for (const db of [serverDb, vaultDb]) {
      const r = await run('createdb', [...pgArgs(), db]);
      assert.equal(r.code, 0, r.stderr);
    }
    const refDir = mkdtempSync(path.join(os.tmpdir(), 'medgrid-e2e-ref-'));
    const destDir = mkdtempSync(path.join(os.tmpdir(), 'medgrid-e2e-dest-'));
    dirs.push(refDir, destDir);
    ref = await startStoreScp(refDir, 'REFSCP');
    dest = await startStoreScp(destDir, 'STORESCP');
    gatewayHttp = await freePort();
    sys = await startSystem({
      env: {
        DATABASE_URL: dbUrl(serverDb),
        MEDGRID_GATEWAY_DATABASE_URL: dbUrl(vaultDb),
        MEDGRID_GATEWAY_PEERS: `STORESCP=127.0.0.1:${dest.port}`,
        MEDGRID_GATEWAY_HTTP_PORT: String(gatewayHttp),
        MEDGRID_LOG_LEVEL: 'warn',
      },
    });

    // Corpus files Orthanc also stores, one per SOP Instance UID.
    const seen = new Set<string>();
    for (const line of readFileSync(path.join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1)) {
      const c = line.split('\t');
      if (c[11] !== 'stored') continue;
      const file = path.join(CORPUS, c[0]!);
      let q: ReturnType<typeof extractQueryAttributes>;
      try {
        q = extractQueryAttributes(readFileSync(file));
      } catch {
        continue;
      }
      if (!q.sopInstanceUid || !q.studyInstanceUid || seen.has(q.sopInstanceUid)) continue;
      seen.add(q.sopInstanceUid);
      sent.push({
        file,
        study: q.studyInstanceUid,
        modality: q.modality ?? '',
        ts: q.transferSyntaxUid ?? '',
      });
    }
    // storescu sends what it can without transcoding (-R: only the file's own transfer syntax); what the
    // reference storescp receives is the expectation, and the same files then go to the gateway.
    const refRun = await run('storescu', [
      '-R',
      '-nh',
      '-aec',
      'REFSCP',
      '127.0.0.1',
      String(ref.port),
      ...sent.map((s) => s.file),
    ]);
    expected = new Map([...filesByUid(refDir)].map(([uid, v]) => [uid, v.sha]));
    assert.ok(
      expected.size >= 100,
      `storescu delivered ${expected.size} files to storescp: ${refRun.stderr.slice(0, 500)}`,
    );
    const delivered = new Set(expected.keys());
    sent = sent.filter((s) => delivered.has(extractQueryAttributes(readFileSync(s.file)).sopInstanceUid!));
  });

  after(async () => {
    const report = await sys?.stop().catch(() => sys?.kill());
    if (report && report.leftovers.length) console.log('leftovers', report.leftovers);
    await ref?.stop();
    await dest?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    for (const db of [serverDb, vaultDb]) await run('dropdb', [...pgArgs(), '--force', '--if-exists', db]);
  });

  const gatewayStatus = async () =>
    (await (await fetch(`http://127.0.0.1:${gatewayHttp}/status`)).json()) as {
      backlog: { spool: number; upload: { pending: number; uploaded: number; failed: number } };
      upload: { url?: string };
      lastErrors: unknown[];
    };

  const gatewayTls = () => {
    const dir = path.join(sys!.dataDir, 'tls', 'gateway');
    return {
      ca: readFileSync(path.join(dir, 'ca.pem')),
      cert: readFileSync(path.join(dir, 'gateway.pem')),
      key: readFileSync(path.join(dir, 'gateway.key')),
    };
  };

  test('storescu → gateway: every instance accepted, uploaded over mutual TLS, listed by the server (QIDO-RS)', async () => {
    assert.match(sys!.output(), new RegExp(`uploads to https://127\\.0\\.0\\.1:${sys!.tlsPort}`));
    const r = await run('storescu', [
      '-R',
      '-nh',
      '-aec',
      'MEDGRID',
      '127.0.0.1',
      String(sys!.gatewayPort),
      ...sent.map((s) => s.file),
    ]);
    assert.equal(r.code, 0, r.stderr.slice(0, 2000));
    const n = sent.length;
    await until(
      `${n} instances uploaded`,
      async () => (await gatewayStatus()).backlog.upload.uploaded === n,
      240_000,
    );
    const st = await gatewayStatus();
    assert.deepEqual(st.backlog.upload, { pending: 0, uploaded: n, failed: 0 });
    assert.equal(st.upload.url, `https://127.0.0.1:${sys!.tlsPort}`);

    const qido = await httpsGet(
      `https://127.0.0.1:${sys!.tlsPort}/dicomweb/studies?limit=1000`,
      gatewayTls(),
    );
    assert.equal(qido.status, 200, qido.body.slice(0, 300));
    const studies = JSON.parse(qido.body) as Record<string, { Value?: unknown[] }>[];
    assert.equal(studies.length, new Set(sent.map((s) => s.study)).size, 'one server study per sent study');
    const instances = studies.reduce((sum, s) => sum + Number(s['00201208']?.Value?.[0] ?? 0), 0);
    assert.equal(instances, n, 'every instance is on the server');
    // Only de-identified UIDs centrally.
    const sentStudies = new Set(sent.map((s) => s.study));
    for (const s of studies) assert.ok(!sentStudies.has(String(s['0020000D']?.Value?.[0])));
  });

  test('no PHI centrally: the server database dump and every SE file hold no corpus name, ID or birth date', async () => {
    await until(
      'every object stored on the SE',
      async () => {
        const [want, have] = (
          await psql(
            serverDb,
            `select count(distinct i.object_sha256), count(distinct r.object_id)
               from study_instance i left join storage_replica r on r.object_id = i.object_sha256`,
          )
        ).split('|');
        return Number(want) > 0 && Number(have) >= Number(want);
      },
      240_000,
    );
    const needles = identifyingValues(sent.map((s) => readFileSync(s.file)));
    assert.ok(needles.size >= 20, `${needles.size} identifying values`);
    const encoded = phiEncodings(needles);
    const dump = await run('pg_dump', [...pgArgs(), '-d', serverDb]);
    assert.equal(dump.code, 0, dump.stderr);
    assert.ok(dump.stdout.length > 10_000);
    const inDump = phiFound(dump.stdout, encoded).map((e) => `${e.length} bytes`);
    assert.deepEqual(inDump, [], 'the server database dump holds corpus PHI');
    // The check can fail: the gateway's own vault (which stays in the hospital) does hold them.
    const vault = await run('pg_dump', [...pgArgs(), '-d', vaultDb]);
    assert.ok(phiFound(vault.stdout, encoded).length > 0, 'the vault dump holds the corpus PHI');

    const seFiles = filesUnder(path.join(sys!.dataDir, 'se')).filter((f) => statSync(f).size > 0);
    assert.ok(seFiles.length >= sent.length / 2, `${seFiles.length} SE files`);
    const leaks: string[] = [];
    for (const f of seFiles) {
      const found = phiFound(readFileSync(f), encoded);
      if (found.length) leaks.push(`${path.basename(f).slice(0, 12)}: ${found.length} values`);
    }
    console.log(
      `no PHI centrally: pg_dump (${dump.stdout.length} bytes) and ${seFiles.length} SE files checked for ${needles.size} identifying values (latin1, UTF-8, UTF-16LE)`,
    );
    assert.deepEqual(leaks, []);
  });

  test('with the local cache emptied, movescu and getscu restore every dataset byte for byte from the server', async () => {
    const packs = path.join(sys!.dataDir, 'gateway', 'cache', 'packs');
    assert.ok(readdirSync(packs).length > 0);
    emptyDir(packs);
    for (const study of new Set(sent.map((s) => s.study))) {
      const m = await run('movescu', moveStudyArgs(sys!.gatewayPort, study));
      assert.equal(m.code, 0, m.stderr.slice(0, 1000));
    }
    const moved = new Map([...filesByUid(dest.dir)].map(([uid, v]) => [uid, v.sha]));
    assert.equal(moved.size, expected.size);
    assert.deepEqual(moved, expected, 'C-MOVE: every dataset identical to what storescu sent');
    assert.deepEqual(readdirSync(packs), [], 'nothing came from the local cache');

    // C-GET over the requestor's association, for an uncompressed CT study (getscu proposes the common classes).
    const getDir = mkdtempSync(path.join(os.tmpdir(), 'medgrid-e2e-get-'));
    dirs.push(getDir);
    const ct = sent.find((s) => s.modality === 'CT' && s.ts === '1.2.840.10008.1.2.1')!;
    const g = await run('getscu', [
      '-S',
      '-aec',
      'MEDGRID',
      '+B',
      '-od',
      getDir,
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${ct.study}`,
      '127.0.0.1',
      String(sys!.gatewayPort),
    ]);
    assert.equal(g.code, 0, g.stderr.slice(0, 1000));
    const got = filesByUid(getDir);
    assert.ok(got.size >= 1);
    for (const [uid, v] of got) assert.equal(v.sha, expected.get(uid), `C-GET ${uid.slice(0, 8)}…`);
    const st = await gatewayStatus();
    assert.deepEqual(st.lastErrors, []);
  });
});
