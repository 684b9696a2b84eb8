import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { adler32, adler32Hex } from '../checksum/adler32.util.js';
import { digestOf } from '../checksum/digest.stream.js';
import type { StorageBackend } from './backend.types.js';
import { openBackend } from './open.backend.js';
import { contentPath } from './path.util.js';
import { isStorageError } from './storage.error.js';
import { verifyObject } from './verify.util.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function allFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

describe('file backend', () => {
  let root = '';
  let fb: StorageBackend;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'medgrid-file-'));
    fb = openBackend(pathToFileURL(root).href, {}, { name: 'local' });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('puts atomically, verifies, gets, stats, lists, moves and deletes', async () => {
    const body = randomBytes(2 * 1024 * 1024 + 1);
    const r = await fb.put(Readable.from([body]), 'a/b/one', body.length);
    assert.equal(r.adler32, adler32Hex(adler32(body)));
    assert.ok(readFileSync(join(root, 'a/b/one')).equals(body));
    assert.equal((await fb.stat('a/b/one'))?.adler32, r.adler32);
    assert.equal((await digestOf(await fb.get('a/b/one'))).sha256, r.sha256);
    assert.deepEqual(
      (await collect(fb.list())).map((e) => e.path),
      ['a/b/one'],
    );
    await fb.move('a/b/one', 'quarantine/one');
    assert.equal(await fb.stat('a/b/one'), null);
    assert.equal(await fb.delete('quarantine/one'), true);
    assert.equal(await fb.delete('quarantine/one'), false);
    await assert.rejects(fb.get('quarantine/one'), (e) => isStorageError(e, 'not-found'));
  });

  it('leaves nothing behind when the source fails mid-stream', async () => {
    const before = allFiles(root);
    const failing = Readable.from(
      (async function* () {
        yield randomBytes(100_000);
        throw new Error('spool read failed');
      })(),
    );
    await assert.rejects(fb.put(failing, 'c/fails', 200_000), /spool read failed/);
    assert.deepEqual(
      allFiles(root).filter((f) => !before.includes(f) && f !== 'c'),
      [],
    );
    assert.equal(await fb.stat('c/fails'), null);
  });

  it('rejects a size that differs from the declared one, and a wrong expected checksum', async () => {
    await assert.rejects(fb.put(Readable.from([randomBytes(10)]), 'd/short', 11), (e) =>
      isStorageError(e, 'size-mismatch'),
    );
    await assert.rejects(
      fb.put(Readable.from([randomBytes(10)]), 'd/sha', 10, { expect: { sha256: '0'.repeat(64) } }),
      (e) => isStorageError(e, 'checksum-mismatch'),
    );
    assert.equal(await fb.stat('d/short'), null);
    assert.equal(await fb.stat('d/sha'), null);
  });

  it('verify notices a modified object', async () => {
    const body = randomBytes(4096);
    const r = await fb.put(Readable.from([body]), 'e/obj', body.length);
    const exp = { size: r.size, adler32: r.adler32, sha256: r.sha256 };
    assert.deepEqual(await verifyObject(fb, 'e/obj', exp), { ok: true });
    body[100] = body[100]! ^ 0xff;
    writeFileSync(join(root, 'e/obj'), body);
    const v = await verifyObject(fb, 'e/obj', exp, 'quick');
    assert.equal(v.ok, false);
  });

  it('builds content paths from a SHA-256 and refuses anything else', () => {
    const h = 'ab'.repeat(32);
    assert.equal(contentPath(h), `objects/ab/ab/${h}`);
    assert.throws(() => contentPath('Smith'), /SHA-256/);
  });

  it('refuses unknown schemes', () => {
    assert.throws(() => openBackend('s3://bucket/x'), /no storage backend for scheme "s3"/);
  });
});
