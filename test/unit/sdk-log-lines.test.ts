// The SDK's own log lines reach the user as dccd lines: one line each, no stack, no repeats
// of the same line within a minute, and nothing for failures dccd reports itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SdkLogLines } from '../../src/worker/runtime.ts';

test('a core warning becomes one dccd line with the first line of its error', () => {
  const lines = new SdkLogLines();
  const error = new Error('Connection refused (os error 111)\n    at somewhere (x.rs:1:1)');
  assert.equal(
    lines.line('WARN', 'gRPC call poll_workflow_task_queue retried 8 times', { error }, 0),
    'dccd: temporal warning: gRPC call poll_workflow_task_queue retried 8 times (Connection refused (os error 111))',
  );
  assert.equal(lines.line('ERROR', 'Worker failed', undefined, 0), 'dccd: temporal error: Worker failed');
});

test('the same line is said once a minute, and failures of runs are left to dccd', () => {
  const lines = new SdkLogLines();
  assert.ok(lines.line('WARN', 'retried 8 times', undefined, 0));
  assert.equal(lines.line('WARN', 'retried 8 times', undefined, 59_999), undefined);
  assert.ok(lines.line('WARN', 'retried 8 times', undefined, 60_000));
  assert.equal(lines.line('WARN', 'Activity failed', { error: new Error('binance: 502') }, 0), undefined);
  assert.equal(lines.line('WARN', 'Workflow failed', {}, 0), undefined);
});
