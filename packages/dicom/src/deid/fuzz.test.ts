import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DicomError } from '../errors/dicom.error.js';
import { parseDicom } from '../parse/parse.service.js';
import { decodeIdentity, encodeIdentity } from '../restore/identity.codec.js';
import { restore } from '../restore/restore.service.js';
import { corpusFiles } from '../testing/corpus.fixture.js';
import { deidentify } from './deidentify.service.js';
import { BASIC_PROFILE, RESEARCH_PROFILE } from './profile.model.js';

const SECRET = 'fuzz-secret-0123456789abcdef';
const RUNS = 10_000;
const TIME_LIMIT_MS = 120_000;

// Small files of every encoding: implicit/explicit, big endian, deflated, encapsulated, deep SR, private SQs.
const seeds = corpusFiles()
  .filter((f) => statSync(f.abs).size <= 40_000)
  .map((f) => readFileSync(f.abs));

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'u32'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; len: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('u32' as const),
    at: fc.nat(),
    value: fc.oneof(
      fc.constantFrom(0, 1, 0xffffffff, 0xfffffffe, 0x7fffffff, 0xfffee000, 0xfffee0dd),
      fc.nat(),
    ),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.array(fc.nat({ max: 255 }), { maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
);

function apply(seed: Buffer, muts: Mutation[]): Buffer {
  let b = Buffer.from(seed);
  for (const m of muts) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    switch (m.kind) {
      case 'flip':
        b[at] = b[at]! ^ (1 << m.bit);
        break;
      case 'set':
        b[at] = m.value;
        break;
      case 'u32':
        if (at + 4 <= b.length) b.writeUInt32LE(m.value >>> 0, at);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        break;
    }
  }
  return b;
}

function typedOrNothing(fn: () => void): string {
  try {
    fn();
    return 'OK';
  } catch (e) {
    if (e instanceof DicomError) return e.code;
    throw e;
  }
}

describe('fuzz: mutated corpus bytes', () => {
  test(`${RUNS} cases: no crash, no hang, bounded memory; any accepted input restores exactly`, () => {
    assert.ok(seeds.length > 150);
    const heapStart = process.memoryUsage().heapUsed;
    let worstMs = 0;
    let accepted = 0;
    const result = fc.check(
      fc.property(
        fc.nat({ max: seeds.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (seedIndex, muts, research) => {
          const input = apply(seeds[seedIndex]!, muts);
          const t0 = performance.now();
          typedOrNothing(() => parseDicom(input));
          typedOrNothing(() => {
            const r = deidentify(input, {
              profile: research ? RESEARCH_PROFILE : BASIC_PROFILE,
              secret: SECRET,
            });
            accepted++;
            const back = restore(r.deidentified, encodeIdentity(r.identity));
            assert.ok(back.equals(input), 'restore reproduces the (mutated) input');
            parseDicom(r.deidentified);
          });
          worstMs = Math.max(worstMs, performance.now() - t0);
        },
      ),
      {
        numRuns: RUNS,
        interruptAfterTimeLimit: TIME_LIMIT_MS,
        seed: Number(process.env.MEDGRID_FUZZ_SEED ?? 20261125),
      },
    );
    if (result.failed) {
      assert.fail(`counterexample after ${result.numRuns} runs: ${String(result.errorInstance)}`);
    }
    assert.equal(result.interrupted, false, `time limit hit after ${result.numRuns} runs`);
    assert.equal(result.numRuns, RUNS);
    assert.ok(accepted > RUNS / 10, `${accepted} mutated inputs were accepted and round-tripped`);
    assert.ok(worstMs < 2_000, `slowest case ${worstMs.toFixed(0)} ms`);
    const grown = process.memoryUsage().heapUsed - heapStart;
    assert.ok(grown < 256 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(0)} MiB`);
  });

  test('a damaged identity record fails with a typed error, never a wrong file', () => {
    const original = seeds[0]!;
    const r = deidentify(original, { profile: BASIC_PROFILE, secret: SECRET });
    const enc = encodeIdentity(r.identity);
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (muts) => {
        const bad = apply(enc, muts);
        const c = typedOrNothing(() => {
          const back = restore(r.deidentified, bad);
          assert.ok(back.equals(original));
        });
        assert.ok(['OK', 'BAD_IDENTITY', 'IDENTITY_MISMATCH', 'SHA_MISMATCH', 'BAD_DEFLATE'].includes(c), c);
      }),
      { numRuns: 2000, seed: 7 },
    );
    assert.ok(decodeIdentity(enc).edits.length > 0);
  });
});
