import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dsVector, type SliceInfo, sliceOrder } from './slice-order.service.js';

type Slice = SliceInfo & { uid: string };
const axial = [1, 0, 0, 0, 1, 0];
const slice = (uid: string, n: number | null, z: number, o = axial, frames = 1): Slice => ({
  uid,
  instanceNumber: n,
  frames,
  position: [-100, -100, z],
  orientation: o,
});
const uids = (xs: Slice[]) => xs.map((i) => i.uid);

describe('sliceOrder', () => {
  test('along the normal, in the direction InstanceNumber runs', () => {
    // InstanceNumbers out of step with the table positions (a re-numbered or merged series).
    assert.deepEqual(
      uids(sliceOrder([slice('a', 1, 0), slice('b', 2, 2), slice('c', 3, 1), slice('d', 4, 3)])),
      ['a', 'c', 'b', 'd'],
    );
    // Acquired head to feet: the first acquired slice stays first.
    assert.deepEqual(uids(sliceOrder([slice('a', 1, 30), slice('b', 2, 10), slice('c', 3, 20)])), [
      'a',
      'c',
      'b',
    ]);
    // No InstanceNumbers at all: geometry alone, ascending.
    assert.deepEqual(uids(sliceOrder([slice('a', null, 5), slice('b', null, -5), slice('c', null, 0)])), [
      'b',
      'c',
      'a',
    ]);
    // Sagittal: the normal is x, so z plays no part.
    const sag = [0, 1, 0, 0, 0, -1];
    const s = (uid: string, n: number, x: number): Slice => ({
      ...slice(uid, n, 0, sag),
      position: [x, -100, 100],
    });
    assert.deepEqual(uids(sliceOrder([s('a', 1, -10), s('b', 2, 10), s('c', 3, 0)])), ['a', 'c', 'b']);
  });

  test('InstanceNumber order when the geometry cannot order the series', () => {
    const sag = [0, 1, 0, 0, 0, -1];
    const byNumber = ['a', 'b', 'c'];
    // Mixed orientations (a localiser in the series), a multi-frame object, two slices at one position, or a
    // slice without a position.
    assert.deepEqual(uids(sliceOrder([slice('a', 1, 0), slice('b', 2, 2, sag), slice('c', 3, 1)])), byNumber);
    assert.deepEqual(
      uids(sliceOrder([slice('a', 1, 0), slice('b', 2, 2, axial, 4), slice('c', 3, 1)])),
      byNumber,
    );
    assert.deepEqual(uids(sliceOrder([slice('a', 1, 0), slice('b', 2, 1), slice('c', 3, 1)])), byNumber);
    assert.deepEqual(
      uids(sliceOrder([slice('c', 3, 1), { ...slice('a', 1, 0), position: undefined }, slice('b', 2, 2)])),
      byNumber,
    );
  });

  test('DS vectors: exactly n finite numbers or nothing', () => {
    assert.deepEqual(dsVector('-128\\-128\\12.5', 3), [-128, -128, 12.5]);
    assert.equal(dsVector('1\\0\\0\\0\\1', 6), undefined);
    assert.equal(dsVector('1\\x\\0', 3), undefined);
    assert.equal(dsVector(null, 3), undefined);
  });
});
