// What a client reads from a pending activity: the events of its heartbeat, and while the
// server waits to retry it, the failure of the last attempt and when the next one starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPayloadConverter, msToTs } from '@temporalio/common';
import { activityStatus } from '../../src/client/runs.ts';

const at = (iso: string) => msToTs(Date.parse(iso));

test('a window waiting to be retried tells its events, why its last attempt failed and when the next starts', () => {
  const beat = { checkpoint: { committedNs: '1', rows: 0, pages: 0, lastTs: null }, events: ['2024-05-01T10:00:01.000Z 502 from binance, retry 8/8 in 4 s'] };
  const status = activityStatus({
    activityType: { name: 'fetchWindow' },
    attempt: 3,
    heartbeatDetails: { payloads: [defaultPayloadConverter.toPayload(beat)] },
    lastFailure: { message: 'binance: gave up after 8 attempts in 61 s: GET /api/v3/klines: HTTP 502' },
    lastAttemptCompleteTime: at('2024-05-01T10:00:05.000Z'),
    nextAttemptScheduleTime: at('2024-05-01T10:00:09.500Z'),
  });
  assert.deepEqual(status, {
    type: 'fetchWindow',
    attempt: 3,
    notes: [
      '2024-05-01T10:00:01.000Z 502 from binance, retry 8/8 in 4 s',
      '2024-05-01T10:00:05.000Z attempt 2 failed: binance: gave up after 8 attempts in 61 s: GET /api/v3/klines: HTTP 502; attempt 3 at 2024-05-01T10:00:09.500Z',
    ],
  });
});

test('a healthy window has nothing to note', () => {
  assert.deepEqual(activityStatus({ activityType: { name: 'fetchWindow' }, attempt: 1 }), { type: 'fetchWindow', attempt: 1, notes: [] });
});
