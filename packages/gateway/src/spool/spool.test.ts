import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { DeidCache } from '../ingest/ingest.service.js';
import { tempDir } from '../testing/harness.js';
import { Spool } from './spool.js';

describe('spool (slots and files)', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('small instances go to slots, big ones to files; a restart finds exactly the complete entries', async () => {
    const dir = tempDir('medgrid-spool-');
    dirs.push(dir);
    const s = new Spool(dir, { slots: 2, slotBytes: 64 * 1024 });
    assert.equal(await s.openSlots(), 2);
    const a = await s.write([Buffer.from('first '), Buffer.alloc(1000, 1)]);
    const b = await s.write([Buffer.alloc(2000, 2)]);
    const c = await s.write([Buffer.alloc(3000, 3)]); // no free slot left: a file
    const big = await s.write([Buffer.alloc(100 * 1024, 4)]); // larger than a slot: a file
    assert.match(a, /^slot-/);
    assert.match(b, /^slot-/);
    assert.doesNotMatch(c, /^slot-/);
    assert.doesNotMatch(big, /^slot-/);
    await s.remove(a);
    await s.close();
    // A write cut short by a crash: b's slot no longer matches its CRC.
    const fd = openSync(path.join(dir, 'slots', b), 'r+');
    writeSync(fd, Buffer.from([9, 9, 9]), 0, 3, 100);
    closeSync(fd);
    const again = new Spool(dir, { slots: 2, slotBytes: 64 * 1024 });
    await again.openSlots();
    assert.deepEqual(new Set(await again.list()), new Set([c, big]));
    assert.deepEqual(await again.read(c), Buffer.alloc(3000, 3));
    // Both slots are usable again.
    assert.match(await again.write([Buffer.from('x')]), /^slot-/);
    assert.match(await again.write([Buffer.from('y')]), /^slot-/);
    await again.close();
    assert.deepEqual(readdirSync(path.join(dir, 'tmp')), []);
  });
  test('cache packs flushed in steps keep every object intact', async () => {
    const dir = tempDir('medgrid-cache-');
    dirs.push(dir);
    const cache = new DeidCache(dir);
    // 3.4 MiB in objects of different sizes: several flush steps, one step boundary inside the list.
    const items = [700_000, 1_200_000, 5, 900_000, 800_000].map((n, i) => ({
      deidSopUid: `2.25.${i}`,
      bytes: Buffer.alloc(n, i + 1),
    }));
    const refs = await cache.putMany(items);
    for (const it of items) assert.deepEqual(await cache.get(refs.get(it.deidSopUid)), it.bytes);
    assert.deepEqual(readdirSync(path.join(dir, 'tmp')), []);
    assert.equal(readdirSync(path.join(dir, 'packs')).length, 1);
  });
});
