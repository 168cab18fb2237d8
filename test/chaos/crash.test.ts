// The reduced crash trial CI runs every time; `npm run test:chaos` runs the full set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTrial } from './crash-harness.ts';

test('a backfill killed three times (worker, Temporal server, worker) ends with exactly the truth', async (t) => {
  const data = mkdtempSync(join(tmpdir(), 'dccd-chaos-'));
  t.after(() => rmSync(data, { recursive: true, force: true }));
  const r = await runTrial({ kills: ['worker', 'server', 'worker'], dataset: 'ohlc', seed: 11, killEveryMs: [1500, 3000], data, log: (l) => t.diagnostic(l) });
  t.diagnostic(`kill points: ${r.killPoints.join(', ')}; pages ${r.pages}`);
  assert.equal(r.kills, 3, 'all three kills landed while the run was going');
  assert.ok(r.pages >= 200, `${r.pages} pages`);
  assert.ok(r.exact, r.detail);
});
