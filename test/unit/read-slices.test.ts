import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sliceCuts } from '../../src/storage/read-slices.ts';

const part = (startNs: number, endNs: number, bytes: number) => ({ startNs: BigInt(startNs), endNs: BigInt(endNs), bytes });

test('a streamed read cuts between parts once a slice holds enough bytes, never inside overlapping parts', () => {
  assert.deepEqual(sliceCuts([], 10), []);
  assert.deepEqual(sliceCuts([part(0, 10, 100)], 10), [], 'one part, one slice');
  assert.deepEqual(sliceCuts([part(0, 10, 4), part(10, 20, 4), part(20, 30, 4), part(30, 40, 4)], 8), [20n], 'small parts share a slice');
  assert.deepEqual(sliceCuts([part(0, 10, 9), part(10, 20, 9), part(20, 30, 9)], 8), [10n, 20n], 'a large part is a slice of its own');
  // [5, 25) overlaps both its neighbours: the three settle their precedence in one query.
  assert.deepEqual(sliceCuts([part(0, 10, 9), part(5, 25, 9), part(20, 30, 9), part(30, 40, 9)], 8), [30n]);
  assert.deepEqual(sliceCuts([part(0, 100, 9), part(10, 20, 9), part(30, 40, 9), part(100, 110, 1)], 8), [100n], 'a part inside a wider one stays with it');
});
