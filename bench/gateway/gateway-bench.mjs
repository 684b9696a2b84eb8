#!/usr/bin/env node
// DICOM gateway benchmark: storescu (TCP_NODELAY=1) -> storescp, -> Orthanc, -> gateway, same workload, same run;
// then C-MOVE of the whole workload from Orthanc and from the gateway to a storescp.
// Usage: pnpm --filter @medgrid/dicom run build && pnpm --filter @medgrid/gateway run build &&
//        pnpm exec node bench/gateway/gateway-bench.mjs [--write-docs] [--rounds N] [--keep] [--generate DIR (only write the workload)]
import { execFile, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeElements, parseDicom } from '@medgrid/dicom';
import { createTestDatabase } from '../../packages/gateway/dist/testing/harness.js';
import { startOrthanc } from '../../packages/gateway/dist/testing/orthanc.js';
import { freePort, waitForPort } from '../../packages/gateway/dist/testing/peers.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const corpus = process.env.MEDGRID_CORPUS_DIR ?? join(root, '..', 'shared', 'corpus');
const args = process.argv.slice(2);
const STUDIES = 5;
const PER_SERIES = 100; // per study: one CT series and one MR series of PER_SERIES each -> 1000 instances

const uid = () => `2.25.${BigInt(`0x${randomBytes(15).toString('hex')}`).toString()}`;

/** One instance: the real header of a corpus file with new UIDs, size and generated 16-bit pixels. */
function synth(src, p, { rows, cols, study, series, sop, n, patient }) {
  const replace = new Map([
    [0x00080018, { vr: 'UI', value: sop }],
    [0x0020000d, { vr: 'UI', value: study }],
    [0x0020000e, { vr: 'UI', value: series }],
    [0x00200013, { vr: 'IS', value: String(n) }],
    [0x00100010, { vr: 'PN', value: patient.name }],
    [0x00100020, { vr: 'LO', value: patient.id }],
    [0x00280010, { vr: 'US', value: u16(rows) }],
    [0x00280011, { vr: 'US', value: u16(cols) }],
  ]);
  const px = Buffer.allocUnsafe(rows * cols * 2);
  for (let i = 0; i < rows * cols; i++) px.writeUInt16LE((i * 13 + n * 7 + ((i / cols) | 0)) & 0x0fff, i * 2);
  const enc = { littleEndian: true, explicitVr: true };
  const parts = [];
  for (const el of p.elements) {
    const r = replace.get(el.tag);
    if (el.tag === 0x7fe00010) parts.push(encodeElements([{ tag: el.tag, vr: 'OW', value: px }], enc));
    else if (r) parts.push(encodeElements([{ tag: el.tag, vr: r.vr, value: r.value }], enc));
    else if (el.tag === 0x00280106 || el.tag === 0x00280107) continue;
    else parts.push(src.subarray(el.offset, el.end));
  }
  const sopClass = p.elements.find((e) => e.tag === 0x00080016);
  const meta = encodeElements(
    [
      { tag: 0x00020001, vr: 'OB', value: Buffer.from([0, 1]) },
      {
        tag: 0x00020002,
        vr: 'UI',
        value: src
          .toString('latin1', sopClass.valueOffset, sopClass.valueOffset + sopClass.valueLength)
          .replace(/\0/g, ''),
      },
      { tag: 0x00020003, vr: 'UI', value: sop },
      { tag: 0x00020010, vr: 'UI', value: '1.2.840.10008.1.2.1' },
      { tag: 0x00020012, vr: 'UI', value: '2.25.1' },
    ],
    enc,
  );
  const head = Buffer.alloc(144);
  head.write('DICM', 128, 'latin1');
  head.writeUInt32LE(0x00000002, 132);
  head.write('UL', 136, 'latin1');
  head.writeUInt16LE(4, 138);
  head.writeUInt32LE(meta.length, 140);
  return Buffer.concat([head, meta, ...parts]);
}

function u16(n) {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

function generate(dir) {
  mkdirSync(dir, { recursive: true });
  const ct = readFileSync(join(corpus, 'pydicom/test_files/CT_small.dcm'));
  const mr = readFileSync(join(corpus, 'pydicom/test_files/MR_small.dcm'));
  const pct = parseDicom(ct);
  const pmr = parseDicom(mr);
  const studies = [];
  let bytes = 0;
  for (let s = 0; s < STUDIES; s++) {
    const study = uid();
    studies.push(study);
    const patient = { name: `BENCH^PATIENT${s}`, id: `BENCH${s}` };
    for (const [src, p, rows, cols, mod] of [
      [ct, pct, 512, 512, 'ct'],
      [mr, pmr, 384, 384, 'mr'],
    ]) {
      const series = uid();
      for (let n = 1; n <= PER_SERIES; n++) {
        const f = synth(src, p, { rows, cols, study, series, sop: uid(), n, patient });
        bytes += f.length;
        writeFileSync(join(dir, `${mod}-${s}-${String(n).padStart(3, '0')}.dcm`), f);
      }
    }
  }
  return { studies, bytes, count: STUDIES * PER_SERIES * 2 };
}

function run(cmd, argv, env = {}) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    execFile(
      cmd,
      argv,
      { env: { ...process.env, TCP_NODELAY: '1', ...env }, maxBuffer: 256 << 20 },
      (err, stdout, stderr) =>
        resolve({
          code: err ? (err.code ?? 1) : 0,
          stdout,
          stderr,
          seconds: Number(process.hrtime.bigint() - t0) / 1e9,
        }),
    );
  });
}

async function storescp(dir, aeTitle) {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const proc = spawn('storescp', ['-aet', aeTitle, '-od', dir, String(port)], {
    stdio: 'ignore',
    env: { ...process.env, TCP_NODELAY: '1' },
  });
  await waitForPort(port);
  return {
    port,
    dir,
    stop: () =>
      new Promise((r) => {
        if (proc.exitCode !== null) return r();
        proc.once('exit', r);
        proc.kill();
      }),
  };
}

const countFiles = (dir) => readdirSync(dir).length;

async function storescu(files, port, aec) {
  const r = await run('storescu', ['-aec', aec, '127.0.0.1', String(port), '+sd', files]);
  if (r.code !== 0) throw new Error(`storescu to ${aec} failed: ${r.stderr.slice(0, 500)}`);
  return r.seconds;
}

async function moveAll(port, aec, aem, studies) {
  let seconds = 0;
  for (const s of studies) {
    const r = await run('movescu', [
      '-S',
      '-aet',
      'BENCH',
      '-aec',
      aec,
      '-aem',
      aem,
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${s}`,
      '127.0.0.1',
      String(port),
    ]);
    if (r.code !== 0) throw new Error(`movescu from ${aec} failed: ${r.stderr.slice(0, 500)}`);
    seconds += r.seconds;
  }
  return seconds;
}

async function main() {
  const genOnly = args.indexOf('--generate');
  if (genOnly >= 0) {
    const w = generate(args[genOnly + 1]);
    console.log(
      `generated ${w.count} instances (${(w.bytes / 1e6).toFixed(0)} MB) into ${args[genOnly + 1]}`,
    );
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'medgrid-gw-bench-'));
  const data = join(work, 'data');
  const t0 = Date.now();
  const w = generate(data);
  console.error(
    `generated ${w.count} instances (${(w.bytes / 1e6).toFixed(0)} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  const mb = w.bytes / 1e6;

  const rounds = [];
  const ROUNDS = Number(args[args.indexOf('--rounds') + 1] ?? 3) || 3;
  for (let round = 0; round < ROUNDS; round++) {
    const results = {};
    // 1. storescp writing to disk
    const scp = await storescp(join(work, `scp-${round}`), 'STORESCP');
    results.storescp = await storescu(data, scp.port, 'STORESCP');
    if (countFiles(scp.dir) !== w.count) throw new Error('storescp did not get every instance');
    await scp.stop();
    rmSync(scp.dir, { recursive: true, force: true });

    // 2. Orthanc 1.10 (SQLite index); destination for its C-MOVE is a storescp
    const dest = await storescp(join(work, `dest-orthanc-${round}`), 'DEST');
    const orthanc = await startOrthanc({
      modalities: { DEST: ['DEST', '127.0.0.1', dest.port], BENCH: ['BENCH', '127.0.0.1', 1] },
    });
    results.orthanc = await storescu(data, orthanc.dicomPort, orthanc.aeTitle);
    const st = await orthanc.api('GET', '/statistics');
    if (st.CountInstances !== w.count) throw new Error(`Orthanc holds ${st.CountInstances} instances`);
    results.orthancMove = await moveAll(orthanc.dicomPort, orthanc.aeTitle, 'DEST', w.studies);
    if (countFiles(dest.dir) !== w.count) throw new Error(`Orthanc C-MOVE delivered ${countFiles(dest.dir)}`);
    await orthanc.stop();
    await dest.stop();
    rmSync(dest.dir, { recursive: true, force: true });

    // 3. The gateway as its own process (vault in a throwaway database, spool/cache under the work dir)
    const db = await createTestDatabase('medgrid_gw_bench');
    const dest2 = await storescp(join(work, `dest-gateway-${round}`), 'DEST');
    const gwPort = await freePort();
    const httpPort = await freePort();
    const gw = fork(join(root, 'packages/gateway/dist/main.js'), [], {
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        MEDGRID_DATA_DIR: join(work, `gw-data-${round}`),
        MEDGRID_GATEWAY_PORT: String(gwPort),
        MEDGRID_GATEWAY_HTTP_PORT: String(httpPort),
        MEDGRID_GATEWAY_PEERS: `DEST=127.0.0.1:${dest2.port}`,
        MEDGRID_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    await new Promise((resolve, reject) => {
      gw.on('message', (m) =>
        m.type === 'ready' ? resolve() : m.type === 'fatal' ? reject(new Error(m.message)) : undefined,
      );
      gw.once('exit', () => reject(new Error('gateway exited')));
    });
    const status = async () => (await fetch(`http://127.0.0.1:${httpPort}/status`)).json();
    const tg = process.hrtime.bigint();
    results.gateway = await storescu(data, gwPort, 'MEDGRID');
    for (;;) {
      const s = await status();
      const total = (s.backlog.upload?.pending ?? 0) + (s.backlog.upload?.uploaded ?? 0);
      if (s.backlog.spool === 0 && total >= w.count) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    results.gatewayVault = Number(process.hrtime.bigint() - tg) / 1e9;
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    const metric = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN);
    results.spoolMs =
      (1000 * metric('medgrid_gateway_spool_write_seconds_sum')) /
      metric('medgrid_gateway_spool_write_seconds_count');
    results.storeMs =
      (1000 * metric('medgrid_gateway_store_seconds_sum')) / metric('medgrid_gateway_store_seconds_count');
    results.gatewayMove = await moveAll(gwPort, 'MEDGRID', 'DEST', w.studies);
    if (countFiles(dest2.dir) !== w.count)
      throw new Error(`gateway C-MOVE delivered ${countFiles(dest2.dir)}`);
    gw.kill('SIGTERM');
    await new Promise((r) => gw.once('exit', r));
    await dest2.stop();
    await db.drop();
    rounds.push(results);
    console.error(
      `round ${round + 1}/${ROUNDS}: ${JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Number(v.toFixed(3))])))}`,
    );
  }
  // Median of each figure over the rounds (the machine is shared; single runs vary a lot).
  const median = (k) => {
    const v = rounds.map((r) => r[k]).sort((x, y) => x - y);
    return v[Math.floor(v.length / 2)];
  };
  const range = (k) => rounds.map((r) => r[k]);
  const results = Object.fromEntries(Object.keys(rounds[0]).map((k) => [k, median(k)]));
  if (!args.includes('--keep')) rmSync(work, { recursive: true, force: true });

  const rate = (s) => w.count / s;
  const rows = [
    ['storescu → storescp (writes to disk)', results.storescp, 'storescp'],
    ['storescu → Orthanc 1.10.1 (SQLite index)', results.orthanc, 'orthanc'],
    ['storescu → gateway (until the last C-STORE response: spool fsynced)', results.gateway, 'gateway'],
    [
      'storescu → gateway, until every instance is de-identified, cached and in the vault',
      results.gatewayVault,
      'gatewayVault',
    ],
    ['C-MOVE Orthanc → storescp (5 studies)', results.orthancMove, 'orthancMove'],
    ['C-MOVE gateway → storescp (5 studies, restore + SHA-256 check)', results.gatewayMove, 'gatewayMove'],
  ];
  const table = [
    `| run (median of ${rounds.length} rounds) | seconds | instances/s | MB/s | instances/s in each round |`,
    '|---|---|---|---|---|',
    ...rows.map(
      ([k, s, key]) =>
        `| ${k} | ${s.toFixed(2)} | ${rate(s).toFixed(1)} | ${(mb / s).toFixed(1)} | ${range(key)
          .map((x) => rate(x).toFixed(0))
          .join(', ')} |`,
    ),
  ].join('\n');
  const ratioScp = results.storescp / results.gatewayVault;
  const ratioOrthanc = results.orthanc / results.gatewayVault;
  const moveRatio = results.orthancMove / results.gatewayMove;
  const summary = [
    `Gateway C-STORE handling: ${results.storeMs.toFixed(2)} ms per instance on average, of which the durable spool write ${results.spoolMs.toFixed(2)} ms.`,
    `Load average (1 min) when the run ended: ${loadavg()[0].toFixed(2)} on ${cpus().length} cores (the machine is shared).`,
    `Gateway ingest (vault included) vs storescp: ${ratioScp.toFixed(2)}x (target >= 0.5); vs Orthanc: ${ratioOrthanc.toFixed(2)}x (target >= 1.5).`,
    `Gateway C-MOVE vs Orthanc C-MOVE: ${moveRatio.toFixed(2)}x.`,
    `Same-round ratios (gateway ingest / storescp; / Orthanc; C-MOVE gateway / Orthanc): ${rounds
      .map(
        (r) =>
          `${(r.storescp / r.gatewayVault).toFixed(2)}; ${(r.orthanc / r.gatewayVault).toFixed(2)}; ${(r.orthancMove / r.gatewayMove).toFixed(2)}`,
      )
      .join(' | ')}.`,
  ].join('\n');
  console.log(table);
  console.log(summary);
  if (args.includes('--write-docs')) {
    const docs = join(root, 'docs', 'benchmarks.md');
    const text = readFileSync(docs, 'utf8');
    const section = [
      '## DICOM gateway (bench/gateway)',
      '',
      'Command: `pnpm --filter @medgrid/dicom run build && pnpm --filter @medgrid/gateway run build && pnpm exec node bench/gateway/gateway-bench.mjs --write-docs`',
      `(${cpus().length} x ${cpus()[0]?.model.trim()}, Node ${process.version}, measured ${new Date().toISOString().slice(0, 16)}Z).`,
      `Workload: ${w.count} instances, ${mb.toFixed(0)} MB: 5 studies, each one CT series (${PER_SERIES} x 512x512x16 bit) and one MR`,
      `series (${PER_SERIES} x 384x384x16 bit), synthesised from the headers of pydicom's CT_small.dcm and MR_small.dcm with generated`,
      'pixels, explicit VR little endian. Sent with dcmtk 3.6.7 `storescu +sd` (one association, `TCP_NODELAY=1`) to each',
      'peer in turn, in the same run, for several rounds (medians reported); the gateway runs as its own process (`dist/main.js`) with its vault in the local',
      'PostgreSQL and fsyncs every instance before its C-STORE response. C-MOVE: `movescu -S` per study to a `storescp`.',
      'storescp writes to the page cache and never fsyncs; the gateway answers only once the instance is durably in its',
      'spool (one fdatasync into a pre-allocated slot), so on this shared disk its rate is bounded by flush latency',
      '(the spool-write figure below), not by CPU.',
      '',
      table,
      '',
      summary,
      '',
    ].join('\n');
    const start = text.indexOf('## DICOM gateway (bench/gateway)');
    let out;
    if (start < 0) out = `${text.trimEnd()}\n\n${section}`;
    else {
      const next = text.indexOf('\n## ', start + 5);
      out = text.slice(0, start) + section + (next < 0 ? '' : text.slice(next + 1));
    }
    writeFileSync(docs, out);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
