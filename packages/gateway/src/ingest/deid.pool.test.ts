import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { deidentify, encodeIdentity, profileByName } from '@medgrid/dicom';
import { corpusFiles } from '../testing/harness.js';
import { DeidWorker } from './deid.pool.js';

describe('de-identification worker thread', () => {
  const secret = Buffer.alloc(32, 7);
  const worker = new DeidWorker('basic', secret);
  after(() => worker.close());

  test('gives the same object, identity record and UIDs as de-identifying in process', async () => {
    const files = corpusFiles().slice(0, 12);
    assert.ok(files.length >= 12);
    const outs = await Promise.all(files.map((f) => worker.run(readFileSync(f.path))));
    for (const [i, f] of files.entries()) {
      const d = deidentify(readFileSync(f.path), { profile: profileByName('basic')!, secret });
      const o = outs[i]!;
      assert.ok(Buffer.isBuffer(o.deidentified));
      assert.ok(o.deidentified.equals(d.deidentified), f.path);
      assert.ok(o.identity.equals(encodeIdentity(d.identity)), f.path);
      assert.equal(o.newSopInstanceUid, d.identity.newSopInstanceUid);
      assert.equal(o.sha256, d.identity.sha256.toString('hex'));
      assert.equal(o.newStudyUid, d.summary.newStudyUid);
    }
  });

  test('a file it cannot parse fails with a code only; a worker that dies fails its calls and the next call works', async () => {
    const bad = Buffer.concat([
      Buffer.alloc(128),
      Buffer.from('DICM'),
      Buffer.from('PATIENT^SECRET garbage'),
    ]);
    await assert.rejects(worker.run(bad), (err: NodeJS.ErrnoException) => {
      assert.ok(err.code, 'no code');
      assert.doesNotMatch(`${err.message} ${err.code}`, /SECRET/);
      return true;
    });
    const file = readFileSync(corpusFiles()[0]!.path);
    const inHand = worker.run(file);
    // The worker thread ends under it (as an out-of-memory kill would).
    await (worker as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await assert.rejects(inHand, { code: 'EWORKER' });
    assert.ok((await worker.run(file)).deidentified.length > 0);
  });
});
