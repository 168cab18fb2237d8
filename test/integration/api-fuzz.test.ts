// A bounded schemathesis pass: generated requests to every operation of the OpenAPI
// document, and not one 5xx. `npm run fuzz:api` runs a longer one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzApi } from '../fuzz/api-fuzz.ts';

test('schemathesis finds no server error in the API', async () => {
  const r = await fuzzApi({ maxExamples: 8, maxTime: 100 });
  assert.equal(r.code, 0, r.output.slice(-6000));
  // Every operation of the document was exercised, however many the API has.
  const selected = /Selected: (\d+)\/(\d+)/.exec(r.output);
  const tested = /Tested: (\d+)/.exec(r.output);
  assert.ok(selected && tested, 'schemathesis printed its summary');
  assert.deepEqual([tested[1], selected[1]], [selected[2], selected[2]], 'every operation selected and tested');
});
