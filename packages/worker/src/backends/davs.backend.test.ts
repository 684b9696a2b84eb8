import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { adler32, adler32Hex } from '../checksum/adler32.util.js';
import { digestOf } from '../checksum/digest.stream.js';
import { GridSe } from '../testing/grid-se.harness.js';
import type { StorageBackend } from './backend.types.js';
import { loadTls } from './credentials.util.js';
import { openBackend } from './open.backend.js';
import { putWithRetry } from './put-retry.util.js';
import { isStorageError, StorageError } from './storage.error.js';
import { verifyObject } from './verify.util.js';

const run = promisify(execFile);

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Flips one bit in place and restores the mtime: silent corruption, as bit rot looks to the SE. */
function flipByte(file: string, at: number): void {
  const st = statSync(file);
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0x01;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
  utimesSync(file, st.atime, st.mtime);
}

describe('davs backend against two real XRootD SEs', () => {
  const se = new GridSe();
  let se1: StorageBackend;
  let se2: StorageBackend;
  let scratch = '';

  before(async () => {
    await se.start();
    se1 = openBackend(se.url(1), se.robot(), { name: 'se1' });
    se2 = openBackend(se.url(2), se.robot(), { name: 'se2' });
    scratch = mkdtempSync(join(tmpdir(), 'medgrid-davs-'));
  });

  after(async () => {
    await se1?.close();
    await se2?.close();
    await se.destroy();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('puts, verifies, gets, lists and deletes an object', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 17);
    const r = await se1.put(Readable.from([body]), 'objects/ab/cd/obj1', body.length);
    assert.equal(r.size, body.length);
    assert.equal(r.adler32, adler32Hex(adler32(body)));
    const st = await se1.stat('objects/ab/cd/obj1');
    assert.equal(st?.size, body.length);
    assert.equal(st?.adler32, r.adler32);
    const back = await digestOf(await se1.get('objects/ab/cd/obj1'));
    assert.equal(back.sha256, r.sha256);
    const listed = await collect(se1.list('objects'));
    assert.deepEqual(
      listed.map((e) => [e.path, e.size]),
      [['objects/ab/cd/obj1', body.length]],
    );
    assert.equal(await se1.delete('objects/ab/cd/obj1'), true);
    assert.equal(await se1.stat('objects/ab/cd/obj1'), null);
    assert.equal(await se1.delete('objects/ab/cd/obj1'), false);
    await assert.rejects(se1.get('objects/ab/cd/obj1'), (e) => isStorageError(e, 'not-found'));
  });

  it('streams an upload of unknown size (chunked) and verifies it', async () => {
    async function* parts() {
      for (let i = 0; i < 40; i++) yield randomBytes(64 * 1024);
    }
    const r = await se2.put(parts(), 'chunked/c1');
    assert.equal(r.size, 40 * 64 * 1024);
    assert.equal(statSync(join(se.data(2), 'chunked/c1')).size, r.size);
  });

  it('header-case regression: the bytes on the SE disk match what was sent', async () => {
    const body = randomBytes(1024 * 1024 + 3);
    await se1.put(Readable.from([body]), 'regress/headercase', body.length);
    // Read the SE's own storage directory: a PUT that XRootD answered 200 but stored 0 bytes would show here.
    const onDisk = readFileSync(join(se.data(1), 'regress/headercase'));
    assert.equal(onDisk.length, body.length);
    assert.ok(onDisk.equals(body));
  });

  it('the trap is real: lower-case header names make XRootD store the wrong size, which stat exposes', async () => {
    const body = randomBytes(200_000);
    const tls = loadTls(se.robot());
    const agent = new https.Agent({ ...tls, keepAlive: false });
    const url = new URL(`${se.httpsUrl(1)}/regress/lowercase`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'PUT',
          headers: { 'content-length': String(body.length) },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(body);
    }).catch(() => -1);
    agent.destroy();
    const st = await se1.stat('regress/lowercase');
    // Whatever the status said, the SE does not hold these bytes: this is why every put is verified.
    assert.notEqual(
      st?.size,
      body.length,
      `status ${status} and full size: the trap is gone, update grid-se.md`,
    );
  });

  it('a wrong robot certificate (same CA, not authorised) gives "credentials refused" naming the SE', async () => {
    const bad = openBackend(se.url(1), se.intruder(), { name: 'se1' });
    try {
      await assert.rejects(bad.put(Readable.from([randomBytes(1000)]), 'denied/x', 1000), (e) => {
        assert.ok(e instanceof StorageError);
        assert.equal(e.code, 'credentials-refused');
        assert.equal(e.retryable, false);
        assert.match(e.message, /^SE se1: credentials refused/);
        return true;
      });
      await assert.rejects(bad.stat('denied/x'), /SE se1: credentials refused/);
      assert.equal(statSync(join(se.data(1)), { throwIfNoEntry: false })?.isDirectory(), true);
      assert.equal(statSync(join(se.data(1), 'denied/x'), { throwIfNoEntry: false }), undefined);
    } finally {
      await bad.close();
    }
  });

  it('a certificate from a foreign CA is refused in the TLS handshake: "credentials refused"', async () => {
    const bad = openBackend(se.url(2), se.foreign(), { name: 'se2' });
    try {
      await assert.rejects(bad.put(Readable.from([randomBytes(1000)]), 'denied/y', 1000), (e) => {
        assert.ok(isStorageError(e, 'credentials-refused'), String(e));
        assert.match((e as Error).message, /^SE se2: credentials refused during TLS handshake/);
        return true;
      });
    } finally {
      await bad.close();
    }
  });

  it('an SE whose certificate we do not trust is refused on our side', async () => {
    const creds = { ...se.robot(), caDir: undefined, caFile: se.v('MEDGRID_FOREIGN_CA') };
    const b = openBackend(se.url(1), creds, { name: 'se1' });
    try {
      await assert.rejects(b.stat('x'), (e) => isStorageError(e, 'se-untrusted'));
    } finally {
      await b.close();
    }
  });

  it('refuses object paths that could carry patient data', async () => {
    await assert.rejects(
      se1.put(Readable.from([Buffer.from('x')]), 'DOE^JOHN 1970/x.dcm', 1),
      /object path refused/,
    );
    await assert.rejects(se1.stat('../etc/passwd'), /object path refused/);
  });

  it('verify detects a byte flipped inside one SE storage directory', async () => {
    const body = randomBytes(512 * 1024);
    const r1 = await se1.put(Readable.from([body]), 'flip/obj', body.length);
    const r2 = await se2.put(Readable.from([body]), 'flip/obj', body.length);
    const expected = { size: r1.size, adler32: r1.adler32, sha256: r1.sha256 };
    assert.deepEqual(await verifyObject(se1, 'flip/obj', expected), { ok: true });
    flipByte(join(se.data(1), 'flip/obj'), 1234);
    const bad = await verifyObject(se1, 'flip/obj', expected, 'full');
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.reason, 'adler32');
    assert.deepEqual(await verifyObject(se2, 'flip/obj', { ...expected, adler32: r2.adler32 }), { ok: true });
    await se1.delete('flip/obj');
    assert.equal(!(await verifyObject(se1, 'flip/obj', expected)).ok && 'missing', 'missing');
  });

  it('davix-get reads an object the worker wrote, with a matching ADLER32', async () => {
    const body = randomBytes(2 * 1024 * 1024 + 5);
    const r = await se2.put(Readable.from([body]), 'interop/by-worker', body.length);
    const out = join(scratch, 'davix-got');
    await run('davix-get', [...se.davixAuth(), `${se.httpsUrl(2)}/interop/by-worker`, out], {
      timeout: 60_000,
    });
    const got = readFileSync(out);
    assert.equal(got.length, body.length);
    assert.equal(adler32Hex(adler32(got)), r.adler32);
  });

  it('an object put with davix-put appears in the listing with its ADLER32', async () => {
    const body = randomBytes(300_001);
    const src = join(scratch, 'davix-src');
    writeFileSync(src, body);
    await run('davix-put', [...se.davixAuth(), src, `${se.httpsUrl(1)}/interop/by-davix`], {
      timeout: 60_000,
    });
    const listed = await collect(se1.list('interop'));
    assert.deepEqual(
      listed.map((e) => [e.path, e.size]),
      [['interop/by-davix', body.length]],
    );
    assert.equal((await se1.stat('interop/by-davix'))?.adler32, adler32Hex(adler32(body)));
  });

  it('putWithRetry reopens the source and succeeds once a stopped SE is back', async () => {
    se.kill(2);
    const body = randomBytes(300_000);
    let opens = 0;
    const restart = sleep(300).then(() => se.start());
    const r = await putWithRetry(
      se2,
      () => {
        opens++;
        return Readable.from([body]);
      },
      'retry/obj',
      body.length,
      { attempts: 5, baseDelayMs: 400 },
    );
    await restart;
    assert.ok(opens >= 2, `opened ${opens} times`);
    assert.equal(r.adler32, adler32Hex(adler32(body)));
    assert.ok(readFileSync(join(se.data(2), 'retry/obj')).equals(body));
    // Non-retryable errors are not retried.
    const bad = openBackend(se.url(2), se.intruder(), { name: 'se2' });
    let tries = 0;
    await assert.rejects(
      putWithRetry(
        bad,
        () => {
          tries++;
          return Readable.from([body]);
        },
        'retry/denied',
        body.length,
      ),
      /credentials refused/,
    );
    await bad.close();
    assert.equal(tries, 1);
  });

  it('an SE stopped mid-upload gives a clear retryable error, and the put succeeds once it is back', async () => {
    const chunk = randomBytes(256 * 1024);
    let sent = 0;
    const slow = Readable.from(
      (async function* () {
        for (let i = 0; i < 200; i++) {
          sent++;
          yield chunk;
          await sleep(10);
        }
      })(),
    );
    const put = se1.put(slow, 'midway/obj', 200 * chunk.length);
    while (sent < 20) await sleep(10);
    se.kill(1);
    await assert.rejects(put, (e) => {
      assert.ok(isStorageError(e), String(e));
      assert.equal((e as StorageError).code, 'unavailable');
      assert.equal((e as StorageError).retryable, true);
      assert.match((e as Error).message, /^SE se1: unavailable, try again later/);
      return true;
    });
    // Down entirely: refused connections are retryable too.
    await assert.rejects(se1.stat('midway/obj'), (e) => isStorageError(e, 'unavailable'));
    await se.start();
    const body = Buffer.concat(Array.from({ length: 8 }, () => chunk));
    const r = await se1.put(Readable.from([body]), 'midway/obj', body.length);
    assert.equal(statSync(join(se.data(1), 'midway/obj')).size, r.size);
  });
});
