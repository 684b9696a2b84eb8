import { flushPromises } from '@vue/test-utils';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { createUploadQueue, expandArchives, readStowResponse } from './upload.service.js';

const report = {
  alreadyDeidentified: false,
  removed: 10,
  emptied: 2,
  replaced: 3,
  cleaned: 1,
  uidsReplaced: 4,
  burnedInTextRisk: true,
  burnedInReason: 'modality US',
};
// Shaped as the server's STOW-RS JSON (packages/server/src/dicomweb/dicomweb.routes.ts).
const stored = JSON.stringify({
  '00081190': { vr: 'UR', Value: ['http://x/dicomweb/studies/2.25.7'] },
  '00081199': {
    vr: 'SQ',
    Value: [
      {
        '00081190': { vr: 'UR', Value: ['http://x/dicomweb/studies/2.25.7/series/2.25.8/instances/2.25.9'] },
        '00081196': { vr: 'US', Value: [0xb000] },
        '00091002': { vr: 'LT', Value: [JSON.stringify(report)] },
      },
    ],
  },
});
const refused = JSON.stringify({
  '00081198': {
    vr: 'SQ',
    Value: [
      { '00081197': { vr: 'US', Value: [0xc000] }, '00091001': { vr: 'LT', Value: ['not a DICOM object'] } },
    ],
  },
});

describe('upload', () => {
  it('reads the STOW-RS result: stored with its de-identification report, or refused with the reason', () => {
    expect(readStowResponse(200, stored)).toEqual({
      state: 'stored',
      reason: null,
      studyUid: '2.25.7',
      deid: report,
    });
    expect(readStowResponse(409, refused)).toEqual({
      state: 'failed',
      reason: 'not a DICOM object (0xC000)',
      studyUid: null,
      deid: null,
    });
    expect(readStowResponse(403, '{"error":"uploading needs the doctor or gateway role"}').reason).toBe(
      'uploading needs the doctor or gateway role',
    );
    expect(readStowResponse(502, '<html>Bad gateway</html>').reason).toBe('HTTP 502');
  });

  it('unpacks ZIP archives (by name or by signature), keeps other files, reports a damaged archive', async () => {
    const zip = zipSync({
      'study/a.dcm': new Uint8Array([1, 2, 3]),
      'study/b.dcm': new Uint8Array([4]),
      'empty/': {},
    });
    const files = await expandArchives([
      { name: 'export.zip', data: new Blob([zip]) },
      { name: 'no-extension', data: new Blob([zip]) },
      { name: 'single.dcm', data: new Blob([new Uint8Array([9])]) },
      { name: 'broken.zip', data: new Blob([new Uint8Array([0x50, 0x4b, 3, 4, 0, 0])]) },
    ]);
    expect(files.map((f) => [f.name, f.data.size, f.reason])).toEqual([
      ['export.zip/study/a.dcm', 3, undefined],
      ['export.zip/study/b.dcm', 1, undefined],
      ['no-extension/study/a.dcm', 3, undefined],
      ['no-extension/study/b.dcm', 1, undefined],
      ['single.dcm', 1, undefined],
      ['broken.zip', 6, expect.stringMatching(/^ZIP: /)],
    ]);
  });

  it('uploads each file with progress, skips DICOMDIR, totals the de-identification and retries failed files', async () => {
    // The transport is replaced here (happy-dom has no server); the e2e test sends real XHRs to STOW-RS.
    let attempt = 0;
    const sent: string[] = [];
    const send = async (data: Blob, onProgress: (n: number) => void) => {
      const text = await data.text();
      sent.push(text);
      onProgress(data.size / 2);
      if (text === 'bad' && attempt++ === 0) return { status: 409, text: refused };
      return { status: 200, text: stored };
    };
    const q = createUploadQueue(send);
    await q.add([
      { name: 'a.dcm', data: new Blob(['good']) },
      { name: 'b.dcm', data: new Blob(['bad']) },
      { name: 'dir/DICOMDIR', data: new Blob(['dir']) },
    ]);
    await flushPromises();
    expect(q.items.map((i) => [i.name, i.state])).toEqual([
      ['a.dcm', 'stored'],
      ['b.dcm', 'failed'],
      ['dir/DICOMDIR', 'skipped'],
    ]);
    expect(q.summary.value).toMatchObject({
      total: 2,
      stored: 1,
      failed: 1,
      skipped: 1,
      busy: false,
      progress: 1,
    });
    expect(q.summary.value.burnedIn.map((i) => i.name)).toEqual(['a.dcm']);

    q.retryFailed();
    await flushPromises();
    expect(sent).toEqual(['good', 'bad', 'bad']);
    expect(q.summary.value).toMatchObject({
      stored: 2,
      failed: 0,
      removed: 20,
      uidsReplaced: 8,
      deidentified: 2,
    });
    expect(q.summary.value.studies).toEqual(['2.25.7']);
  });
});
