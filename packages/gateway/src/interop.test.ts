import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { extractQueryAttributes, type QueryAttributes } from '@medgrid/dicom';
import { corpusFiles, run, startTestGateway, type TestGateway, tempDir } from './testing/harness.js';
import {
  datasetShasByUid,
  filesByUid,
  moveStudyArgs,
  type StoreScp,
  startStoreScp,
} from './testing/peers.js';

/** Parses findscu's printed responses into one tag→value map per response. */
function parseFind(out: string): Map<string, string>[] {
  const res: Map<string, string>[] = [];
  let cur: Map<string, string> | undefined;
  for (const line of out.split('\n')) {
    if (/Find Response: \d+ \(Pending\)/.test(line)) {
      cur = new Map();
      res.push(cur);
      continue;
    }
    const m = /\(([0-9a-f]{4},[0-9a-f]{4})\) [A-Z]{2} (?:\[(.*?)\]|\(no value available\))/.exec(line);
    if (m && cur) cur.set(m[1]!, (m[2] ?? '').replace(/\0/g, '').trim());
  }
  return res;
}

describe('gateway with dcmtk peers (dcmsend, findscu, movescu, getscu, storescp)', () => {
  let t: TestGateway;
  let dest: StoreScp;
  let ref: StoreScp;
  const sent: { file: string; attrs: QueryAttributes }[] = [];
  const dirs: string[] = [];

  before(async () => {
    const d1 = tempDir('medgrid-dest-');
    const d2 = tempDir('medgrid-ref-');
    dirs.push(d1, d2);
    dest = await startStoreScp(d1, 'STORESCP');
    ref = await startStoreScp(d2, 'REFSCP');
    t = await startTestGateway({
      MEDGRID_GATEWAY_ALLOWED_AE_TITLES: 'HIS,MOVESCU,FINDSCU,GETSCU',
      MEDGRID_GATEWAY_PEERS: `STORESCP=127.0.0.1:${dest.port},HIS=127.0.0.1:${dest.port}`,
    });
    // Every corpus file Orthanc 1.10.1 accepted from dcmsend, one file per SOP Instance UID.
    const seen = new Set<string>();
    for (const f of corpusFiles().filter((c) => c.orthanc.startsWith('stored'))) {
      const attrs = extractQueryAttributes(readFileSync(f.path));
      if (!attrs.sopInstanceUid || seen.has(attrs.sopInstanceUid)) continue;
      seen.add(attrs.sopInstanceUid);
      sent.push({ file: f.path, attrs });
    }
  });
  after(async () => {
    await t.stop();
    await dest.stop();
    await ref.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const port = () => String(t.gw.port);

  test('dcmsend: every corpus file that Orthanc accepts is accepted, as received', async () => {
    assert.ok(sent.length > 50, `corpus has ${sent.length} files to send`);
    const report = path.join(dirs[0]!, '..', `dcmsend-${process.pid}.txt`);
    const files = sent.map((s) => s.file);
    // Small PDUs (4 KiB) so every dataset arrives in many P-DATA fragments that the gateway must reassemble.
    const r = await run('dcmsend', [
      '--max-send-pdu',
      '4096',
      '-aet',
      'HIS',
      '-aec',
      'MEDGRID',
      '-dn',
      '+crf',
      report,
      '127.0.0.1',
      port(),
      ...files,
    ]);
    const rep = readFileSync(report, 'utf8');
    rmSync(report, { force: true });
    assert.equal(r.code, 0, r.stderr.slice(0, 2000));
    // The same files to a bit-preserving storescp: the reference for "what was sent".
    const r2 = await run('dcmsend', [
      '-aet',
      'HIS',
      '-aec',
      'REFSCP',
      '-dn',
      '127.0.0.1',
      String(ref.port),
      ...files,
    ]);
    assert.equal(r2.code, 0, r2.stderr.slice(0, 2000));
    const ok = (rep.match(/\bSuccess\b/g) ?? []).length;
    assert.ok(
      ok >= sent.length,
      `report shows ${ok} successes for ${sent.length} files:\n${rep.slice(-3000)}`,
    );
    await t.gw.ingest.drained();
    const n = await t.gw.vault.query<{ n: string }>('select count(*) as n from vault_instance');
    assert.equal(Number(n.rows[0]!.n), sent.length);
    // Each stored original restores to the exact bytes storescp got for the same transfer.
    // Stored in the transfer syntax dcmsend chose on the wire (the same storescp saw), compressed ones included.
    const refFiles = filesByUid(ref.dir);
    const rows = await t.gw.vault.query<{ sop_instance_uid: string; transfer_syntax_uid: string }>(
      'select sop_instance_uid, transfer_syntax_uid from vault_instance',
    );
    let compressed = 0;
    for (const row of rows.rows) {
      assert.equal(row.transfer_syntax_uid, refFiles.get(row.sop_instance_uid)?.ts);
      if (/^1\.2\.840\.10008\.1\.2\.(4|5)/.test(row.transfer_syntax_uid)) compressed++;
    }
    assert.ok(compressed >= 10, `${compressed} compressed instances stored as received`);
  });

  test('findscu: PatientName wildcard (case-insensitive), Patient Root and Study Root', async () => {
    const name = sent.map((s) => s.attrs.patientName).find((n) => n && /^[A-Za-z]{4,}/.test(n))!;
    const prefix = name.slice(0, 4);
    const expected = new Set(
      sent
        .filter((s) => s.attrs.patientName?.toLowerCase().startsWith(prefix.toLowerCase()))
        .map((s) => s.attrs.studyInstanceUid),
    );
    for (const model of ['-S', '-P']) {
      const r = await run('findscu', [
        model,
        '-aet',
        'FINDSCU',
        '-aec',
        'MEDGRID',
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        `PatientName=${prefix.toLowerCase()}*`,
        '-k',
        'StudyInstanceUID',
        '-k',
        'PatientID',
        '127.0.0.1',
        port(),
      ]);
      assert.equal(r.code, 0, r.stderr);
      const got = new Set(parseFind(r.stderr + r.stdout).map((m) => m.get('0020,000d')));
      assert.deepEqual(got, expected, `model ${model}`);
      for (const m of parseFind(r.stderr + r.stdout)) assert.ok(m.has('0010,0020'));
    }
  });

  test('findscu: PatientID at patient level and at study level', async () => {
    const counts = new Map<string, number>();
    for (const s of sent)
      if (s.attrs.patientId) counts.set(s.attrs.patientId, (counts.get(s.attrs.patientId) ?? 0) + 1);
    const pid = [...counts.entries()].find(([id, n]) => n >= 1 && /^[\w.-]+$/.test(id))![0];
    const r = await run('findscu', [
      '-P',
      '-aet',
      'FINDSCU',
      '-aec',
      'MEDGRID',
      '-k',
      'QueryRetrieveLevel=PATIENT',
      '-k',
      `PatientID=${pid}`,
      '-k',
      'PatientName',
      '-k',
      'NumberOfPatientRelatedStudies',
      '127.0.0.1',
      port(),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const res = parseFind(r.stderr + r.stdout);
    assert.equal(res.length, 1);
    const studies = new Set(
      sent.filter((s) => s.attrs.patientId === pid).map((s) => s.attrs.studyInstanceUid),
    );
    assert.equal(res[0]!.get('0020,1200'), String(studies.size));
    assert.equal(
      res[0]!.get('0010,0010') ?? '',
      sent.find((s) => s.attrs.patientId === pid)!.attrs.patientName ?? '',
    );
    const r2 = await run('findscu', [
      '-S',
      '-aet',
      'FINDSCU',
      '-aec',
      'MEDGRID',
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `PatientID=${pid}`,
      '-k',
      'StudyInstanceUID',
      '127.0.0.1',
      port(),
    ]);
    assert.deepEqual(new Set(parseFind(r2.stderr).map((m) => m.get('0020,000d'))), studies);
  });

  test('findscu: StudyDate range, open ranges and ModalitiesInStudy', async () => {
    const dates = [
      ...new Set(sent.map((s) => s.attrs.studyDate).filter((d): d is string => !!d && /^\d{8}$/.test(d))),
    ].sort();
    assert.ok(dates.length >= 3);
    const lo = dates[1]!;
    const hi = dates[dates.length - 2]!;
    const cases: [string, (d: string) => boolean][] = [
      [`${lo}-${hi}`, (d) => d >= lo && d <= hi],
      [`${lo}-`, (d) => d >= lo],
      [`-${lo}`, (d) => d <= lo],
    ];
    for (const [range, pred] of cases) {
      const expected = new Set(
        sent.filter((s) => s.attrs.studyDate && pred(s.attrs.studyDate)).map((s) => s.attrs.studyInstanceUid),
      );
      const r = await run('findscu', [
        '-S',
        '-aet',
        'FINDSCU',
        '-aec',
        'MEDGRID',
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        `StudyDate=${range}`,
        '-k',
        'StudyInstanceUID',
        '127.0.0.1',
        port(),
      ]);
      assert.deepEqual(new Set(parseFind(r.stderr).map((m) => m.get('0020,000d'))), expected, range);
    }
    const mods = new Set(
      sent
        .filter((s) => s.attrs.modality === 'MR' || s.attrs.modality === 'CT')
        .map((s) => s.attrs.studyInstanceUid),
    );
    const r = await run('findscu', [
      '-S',
      '-aet',
      'FINDSCU',
      '-aec',
      'MEDGRID',
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      'ModalitiesInStudy=MR\\CT',
      '-k',
      'StudyInstanceUID',
      '127.0.0.1',
      port(),
    ]);
    const res = parseFind(r.stderr);
    assert.deepEqual(new Set(res.map((m) => m.get('0020,000d'))), mods);
    for (const m of res) assert.match(m.get('0008,0061') ?? '', /MR|CT/);
  });

  test('findscu: series and image levels', async () => {
    const byStudy = new Map<string, typeof sent>();
    for (const s of sent)
      byStudy.set(s.attrs.studyInstanceUid!, [...(byStudy.get(s.attrs.studyInstanceUid!) ?? []), s]);
    const [study, members] = [...byStudy.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
    const r = await run('findscu', [
      '-S',
      '-aet',
      'FINDSCU',
      '-aec',
      'MEDGRID',
      '-k',
      'QueryRetrieveLevel=SERIES',
      '-k',
      `StudyInstanceUID=${study}`,
      '-k',
      'SeriesInstanceUID',
      '-k',
      'Modality',
      '-k',
      'NumberOfSeriesRelatedInstances',
      '127.0.0.1',
      port(),
    ]);
    const series = parseFind(r.stderr);
    assert.deepEqual(
      new Set(series.map((m) => m.get('0020,000e'))),
      new Set(members.map((s) => s.attrs.seriesInstanceUid)),
    );
    const one = members[0]!.attrs.seriesInstanceUid!;
    const r2 = await run('findscu', [
      '-S',
      '-aet',
      'FINDSCU',
      '-aec',
      'MEDGRID',
      '-k',
      'QueryRetrieveLevel=IMAGE',
      '-k',
      `StudyInstanceUID=${study}`,
      '-k',
      `SeriesInstanceUID=${one}`,
      '-k',
      'SOPInstanceUID',
      '-k',
      'SOPClassUID',
      '127.0.0.1',
      port(),
    ]);
    const images = parseFind(r2.stderr);
    assert.deepEqual(
      new Set(images.map((m) => m.get('0008,0018'))),
      new Set(members.filter((s) => s.attrs.seriesInstanceUid === one).map((s) => s.attrs.sopInstanceUid)),
    );
  });

  test('movescu → storescp: every study comes back with the exact bytes that were sent', async () => {
    const studies = [...new Set(sent.map((s) => s.attrs.studyInstanceUid!))];
    const refShas = datasetShasByUid(ref.dir);
    for (const study of studies) {
      const r = await run('movescu', moveStudyArgs(port(), study, { callingAe: 'HIS' }));
      assert.equal(r.code, 0, r.stderr.slice(0, 1000));
    }
    const got = datasetShasByUid(dest.dir);
    let same = 0;
    for (const s of sent) {
      const uid = s.attrs.sopInstanceUid!;
      assert.equal(
        got.get(uid),
        refShas.get(uid),
        'retrieved dataset equals the dataset storescp received from dcmsend',
      );
      same++;
    }
    assert.equal(same, sent.length);
  });

  test('movescu to an unknown destination fails with A801', async () => {
    const r = await run('movescu', [
      '-S',
      '-v',
      '-aet',
      'HIS',
      '-aec',
      'MEDGRID',
      '-aem',
      'NOBODY',
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${sent[0]!.attrs.studyInstanceUid}`,
      '127.0.0.1',
      port(),
    ]);
    assert.match(r.stderr + r.stdout, /MoveDestinationUnknown|0xa801/i);
  });

  test('getscu (4 KiB max PDU): the study comes back bit for bit over the same association', async () => {
    const dir = tempDir('medgrid-get-');
    dirs.push(dir);
    const target = sent.find(
      (s) => s.attrs.transferSyntaxUid === '1.2.840.10008.1.2.1' && s.attrs.modality === 'CT',
    )!;
    // getscu announces a 4 KiB maximum PDU: the gateway must fragment what it sends to that size.
    const r = await run('getscu', [
      '--max-pdu',
      '4096',
      '-S',
      '-aet',
      'GETSCU',
      '-aec',
      'MEDGRID',
      '+B',
      '-od',
      dir,
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${target.attrs.studyInstanceUid}`,
      '127.0.0.1',
      port(),
    ]);
    assert.equal(r.code, 0, r.stderr.slice(0, 1000));
    const got = datasetShasByUid(dir);
    const refShas = datasetShasByUid(ref.dir);
    const inStudy = sent.filter((s) => s.attrs.studyInstanceUid === target.attrs.studyInstanceUid);
    assert.ok(got.size >= 1);
    for (const [uid, sha] of got) assert.equal(sha, refShas.get(uid));
    assert.ok(got.size <= inStudy.length);
  });

  test('C-MOVE with one object missing from the cache: warning B000, counts and the failed SOP list', async () => {
    const byStudy = new Map<string, string[]>();
    for (const s of sent)
      byStudy.set(s.attrs.studyInstanceUid!, [
        ...(byStudy.get(s.attrs.studyInstanceUid!) ?? []),
        s.attrs.sopInstanceUid!,
      ]);
    const [study, uids] = [...byStudy.entries()].find(([, u]) => u.length >= 2)!;
    const victim = uids[0]!;
    // The victim's object is lost from the cache (its pack reference points nowhere).
    await t.gw.vault.query(
      `update vault_instance set cache_ref = '00000000-0000-0000-0000-000000000000.pack:0:1' where sop_instance_uid = $1`,
      [victim],
    );
    const r = await run('movescu', [
      '-S',
      '-v',
      '-d',
      '-aet',
      'HIS',
      '-aec',
      'MEDGRID',
      '-aem',
      'STORESCP',
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${study}`,
      '127.0.0.1',
      port(),
    ]);
    const out = r.stderr + r.stdout;
    const last = (label: string) => [...out.matchAll(new RegExp(`${label}\\s*:\\s*(\\S+)`, 'g'))].at(-1)?.[1];
    assert.match(last('DIMSE Status') ?? '', /0xb000/i);
    assert.equal(last('Failed Suboperations'), '1');
    assert.equal(last('Completed Suboperations'), String(uids.length - 1));
    assert.equal(last('Warning Suboperations'), '0');
    assert.ok(out.includes(victim), 'the failed SOP Instance UID list names the missing instance');
  });
});
