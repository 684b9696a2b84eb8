import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { Adler32, adler32, adler32Combine, adler32Hex, adler32Update } from './adler32.util.js';
import { DigestStream, digestFile, digestOf } from './digest.stream.js';

// Reference: the real zlib, through Python's binding (node's zlib does not expose adler32).
function zlibAdler32Files(paths: string[], repeat = 1): string[] {
  const out = execFileSync('python3', [
    '-c',
    'import sys,zlib\nfor p in sys.argv[2:]:\n b=open(p,"rb").read()\n v=1\n for _ in range(int(sys.argv[1])): v=zlib.adler32(b,v)\n print("%08x"%v)',
    String(repeat),
    ...paths,
  ]);
  return out.toString().trim().split('\n');
}
const zlibAdler32File = (path: string, repeat = 1): string => zlibAdler32Files([path], repeat)[0]!;

describe('adler32', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'medgrid-cks-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('matches published vectors', () => {
    assert.equal(adler32Hex(adler32(Buffer.from('Wikipedia'))), '11e60398');
    assert.equal(adler32Hex(adler32(Buffer.alloc(0))), '00000001');
    assert.equal(adler32Hex(adler32(Buffer.from('abc'))), '024d0127');
  });

  it('matches zlib on random data of awkward sizes, including all-0xff worst cases', () => {
    const sizes = [1, 7, 8, 9, 3799, 3800, 3801, 5552, 5553, 65536 + 3, 1_000_003];
    const bufs = sizes.flatMap((n) => [randomBytes(n), Buffer.alloc(n, 0xff)]);
    const paths = bufs.map((buf, i) => {
      const p = join(dir, `r${i}`);
      writeFileSync(p, buf);
      return p;
    });
    const want = zlibAdler32Files(paths);
    for (const [i, buf] of bufs.entries())
      assert.equal(adler32Hex(adler32(buf)), want[i], `size ${buf.length}`);
  });

  it('gives the same value however the stream is chunked', () => {
    const buf = randomBytes(200_001);
    const whole = adler32(buf);
    const a = new Adler32();
    for (let i = 0; i < buf.length; i += 977) a.update(buf.subarray(i, i + 977));
    assert.equal(a.digest(), whole);
    assert.notEqual(adler32Update(1, buf.subarray(1)), whole);
  });

  it('combine follows zlib semantics, also for lengths above 4 GiB', () => {
    const x = randomBytes(12_345);
    const y = randomBytes(54_321);
    assert.equal(adler32Combine(adler32(x), adler32(y), y.length), adler32(Buffer.concat([x, y])));
    assert.equal(adler32Combine(adler32(x), 1, 0), adler32(x));
    // n zero bytes have adler32 = 1 + ((n mod BASE) << 16): a closed form to check huge lengths against.
    const n = 5 * 2 ** 30 + 17;
    const zeros = (1 + (n % 65521) * 65536) >>> 0;
    // x followed by n zeros: a stays, b grows by n*a.
    const ax = adler32(x);
    const a = ax & 0xffff;
    const b = ((ax >>> 16) + (n % 65521) * a) % 65521;
    assert.equal(adler32Combine(ax, zeros, n), ((b << 16) | a) >>> 0);
  });

  it('streams more than 2 GiB correctly (checked against zlib)', async () => {
    const block = randomBytes(1 << 20);
    const p = join(dir, 'block');
    writeFileSync(p, block);
    const repeat = 2049; // 2 GiB + 1 MiB
    const d = new DigestStream();
    const src = Readable.from(
      (function* () {
        for (let i = 0; i < repeat; i++) yield block;
      })(),
    );
    await pipeline(src, d, new Writable({ write: (_c, _e, cb) => cb() }));
    assert.equal(d.digests().size, repeat * block.length);
    assert.equal(d.digests().adler32, zlibAdler32File(p, repeat));
  });
});

describe('digests', () => {
  it('computes size, adler32 and sha256 of a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medgrid-cks-'));
    try {
      const buf = randomBytes(3 * 1024 * 1024 + 5);
      const p = join(dir, 'f');
      writeFileSync(p, buf);
      const d = await digestFile(p);
      assert.equal(d.size, buf.length);
      assert.equal(d.adler32, zlibAdler32File(p));
      assert.equal(d.sha256, createHash('sha256').update(buf).digest('hex'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('digestOf consumes any async iterable', async () => {
    const parts = [randomBytes(10), randomBytes(70_000)];
    const d = await digestOf(Readable.from(parts));
    assert.equal(d.size, 70_010);
    assert.equal(d.adler32, adler32Hex(adler32(Buffer.concat(parts))));
  });

  it('refuses to report digests before the end of the stream', () => {
    assert.throws(() => new DigestStream().digests(), /before the stream ended/);
  });
});
