// What the CLI says about itself must be true: help texts name the forms the code uses, and
// each command's shutdown line describes what that command does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backfillWorkflowId } from '../../src/domain/job.ts';
import { freePort } from '../helpers/ports.ts';
import { runDccd } from '../helpers/dccd-process.ts';
import { temporalAddress } from '../helpers/temporal.ts';

async function output(args: string[], env: NodeJS.ProcessEnv = {}) {
  const p = runDccd(args, env);
  const { code } = await p.exited;
  return { code, text: p.output() };
}

test('stop --help shows the workflow id form runs really have', async () => {
  const { code, text: wrapped } = await output(['stop', '--help']);
  assert.equal(code, 0);
  const text = wrapped.replace(/\s+/g, ' '); // help lines wrap at the terminal's width
  const id = backfillWorkflowId({ exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' });
  assert.ok(text.includes(id), `${id} in:\n${text}`);
  assert.match(text, /backfill\/<exchange>\/<dataset kind>\/<BASE-QUOTE>/);
});

test('start --help documents the Temporal ports, by flag and by variable', async () => {
  const { code, text } = await output(['start', '--help']);
  assert.equal(code, 0);
  for (const s of ['--temporal-port', '--temporal-ui-port', '--api-port', 'DCCD_TEMPORAL_PORT', 'DCCD_TEMPORAL_UI_PORT', 'DCCD_API_PORT', 'daemon.json']) {
    assert.ok(text.includes(s), `${s} in:\n${text}`);
  }
});

test('dccd api stops without talking of a worker it does not run', async () => {
  const p = runDccd(['api'], { TEMPORAL_ADDRESS: await temporalAddress(), DCCD_API_PORT: String(await freePort()) });
  await p.waitFor(/^dccd api ready/);
  p.child.kill('SIGINT');
  assert.equal((await p.exited).code, 0, p.output());
  assert.match(p.output(), /^dccd: SIGINT, stopping \(open requests finish first\)\.\.\.$/m);
  assert.doesNotMatch(p.output(), /worker/);
});
