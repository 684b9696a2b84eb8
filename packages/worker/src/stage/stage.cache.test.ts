import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { adler32, adler32Hex } from '../checksum/adler32.util.js';
import { orderByWeight } from '../replicas/placement.util.js';
import { StageCache, StageChecksumError, type StageSource } from './stage.cache.js';

function source(body: Buffer, served: Buffer = body): StageSource {
  return {
    expected: {
      size: body.length,
      adler32: adler32Hex(adler32(body)),
      sha256: createHash('sha256').update(body).digest('hex'),
    },
    open: async () => Readable.from([served]),
  };
}
const idOf = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('stage cache', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'medgrid-stage-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps under its cap, evicting the least recently used', async () => {
    const cache = new StageCache(join(dir, 'lru'), 250_000);
    const [a, b, c] = [randomBytes(100_000), randomBytes(100_000), randomBytes(100_000)];
    await cache.fetch(idOf(a), [source(a)]);
    await cache.fetch(idOf(b), [source(b)]);
    await cache.fetch(idOf(a), [source(a)]); // a is now the most recent
    await cache.fetch(idOf(c), [source(c)]); // evicts b
    assert.deepEqual(cache.ids(), [idOf(a), idOf(c)]);
    assert.ok(cache.usedBytes <= 250_000);
    assert.ok(!existsSync(join(dir, 'lru', idOf(b))));
    assert.ok(readFileSync(join(dir, 'lru', idOf(c))).equals(c));
    // A restarted cache finds its files again, in mtime order.
    const again = new StageCache(join(dir, 'lru'), 250_000);
    await again.init();
    assert.equal(again.usedBytes, 200_000);
    assert.ok(again.has(idOf(a)) && again.has(idOf(c)));
  });

  it('refuses corrupt bytes and falls back to the next source', async () => {
    const cache = new StageCache(join(dir, 'verify'), 1_000_000);
    const body = randomBytes(50_000);
    const bad = Buffer.from(body);
    bad[7] = bad[7]! ^ 1;
    const failures: Array<[number, string]> = [];
    const p = await cache.fetch(idOf(body), [source(body, bad), source(body)], (i, e) =>
      failures.push([i, e.name]),
    );
    assert.ok(readFileSync(p).equals(body));
    assert.deepEqual(failures, [[0, 'StageChecksumError']]);
    const other = randomBytes(1000);
    await assert.rejects(cache.fetch(idOf(other), [source(other, randomBytes(1000))]), StageChecksumError);
    assert.deepEqual(
      readdirSync(join(dir, 'verify')).filter((f) => f.endsWith('.part')),
      [],
    );
  });

  it('fetches once for concurrent requests of the same object', async () => {
    const cache = new StageCache(join(dir, 'dedupe'), 1_000_000);
    const body = randomBytes(10_000);
    let opens = 0;
    const s = source(body);
    const counted: StageSource = {
      expected: s.expected,
      open: () => {
        opens++;
        return s.open();
      },
    };
    const [p1, p2] = await Promise.all([
      cache.fetch(idOf(body), [counted]),
      cache.fetch(idOf(body), [counted]),
    ]);
    assert.equal(p1, p2);
    assert.equal(opens, 1);
  });

  it('refuses ids that are not SHA-256', async () => {
    const cache = new StageCache(join(dir, 'ids'), 1000);
    writeFileSync(join(dir, 'x'), 'x');
    await assert.rejects(cache.fetch('../x', []), /SHA-256/);
  });
});

describe('placement by weight', () => {
  it('puts an SE of weight 3 first about three times as often as one of weight 1; weight 0 last', () => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const ses = [
      { name: 'a', weight: 3 },
      { name: 'b', weight: 1 },
      { name: 'z', weight: 0 },
    ];
    const firsts: Record<string, number> = { a: 0, b: 0, z: 0 };
    for (let i = 0; i < 4000; i++) {
      const o = orderByWeight(ses, rnd);
      firsts[o[0]!.name]!++;
      assert.equal(o[2]!.name, 'z');
    }
    const ratio = firsts.a! / firsts.b!;
    assert.ok(ratio > 2.6 && ratio < 3.4, `ratio ${ratio}`);
    assert.equal(firsts.z, 0);
  });
});
