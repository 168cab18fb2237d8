// The progress line is redrawn in place, which only works while it fits one terminal row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderProgress } from '../../src/cli/progress-bar.ts';
import { parseAbsoluteTime } from '../../src/domain/time.ts';

const [start, end] = [parseAbsoluteTime('2017-08-17', 's'), parseAbsoluteTime('2024-12-01', 'e')];
const halfway = { startNs: `${start}`, endNs: `${end}`, currentNs: `${(start + end) / 2n}`, windowsDone: 223, windowsTotal: 446, rowsWritten: 1_912_345, log: [] };

test('a backfill of years of candles, half done, renders in 80 columns, stopping or not', () => {
  const running = renderProgress({ ...halfway, state: 'running' }, 95_000);
  assert.equal(running, '[=======>     ]  50.0% 2021-04-09 12:00 1,912,345 rows 20,130/s 223/446 windows');
  const stopping = renderProgress({ ...halfway, state: 'stopping' }, 95_000);
  assert.equal(stopping, '[=======>     ]  50.0% 2021-04-09 12:00 1,912,345 rows stopping 223/446 windows');
  for (const line of [running, stopping]) assert.ok(line.length < 80, `${line.length} columns`);
});
