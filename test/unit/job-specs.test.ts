// Config entries become job specs: one per pair, ids from the dataset, versions from what a run does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load-config.ts';
import { specId, specVersion } from '../../src/domain/job-spec.ts';
import { checkConfigJobs, offlineAdapters, streamJobRequest, summaryOf } from '../../src/jobs/job-plan.ts';

const jobsOf = (jobs: unknown[]) => checkConfigJobs(parseConfig({ jobs }));
const problem = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

test('an entry with several symbols is one spec per pair, with readable ids in the unified symbol', () => {
  const specs = jobsOf([{ exchange: 'binance', symbols: ['BTCUSDT', 'eth/usdt'], kind: 'ohlc', span: '1m', start: '2024-01-01', schedule: { every: '1h' } }]);
  assert.deepEqual(
    specs.map((s) => s.id),
    ['backfill:binance:BTC-USDT:ohlc-1m', 'backfill:binance:ETH-USDT:ohlc-1m'],
  );
  assert.deepEqual(specs[0]!.trigger, { kind: 'interval', every: '1h' });
  assert.deepEqual(specs[0]!.params, { start: '1704067200000000000' });
  assert.equal(specs[0]!.origin, 'config');
  assert.equal(summaryOf(specs[0]!), 'backfill binance BTC/USDT ohlc-1m every 1h, from 2024-01-01T00:00:00.000000000Z');
});

test('an id stays when start is edited; the version changes with what a run does, not with how a date is typed', () => {
  const base = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades', schedule: { cron: '0 * * * *' } };
  const [a] = jobsOf([{ ...base, start: '2024-01-01' }]);
  const [b] = jobsOf([{ ...base, start: '2024-01-01T00:00:00Z' }]);
  const [c] = jobsOf([{ ...base, start: '2024-02-01' }]);
  const [d] = jobsOf([{ ...base, start: '2024-01-01', enabled: false }]);
  assert.equal(a!.id, c!.id);
  assert.equal(specVersion(a!), specVersion(b!));
  assert.notEqual(specVersion(a!), specVersion(c!));
  assert.equal(specVersion(a!), specVersion(d!), 'enabled pauses a schedule; it is not a new version');
  assert.equal(a!.id, specId('backfill', { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' }));
});

test('triggers: once by default for a backfill, at, manual; supervised only for streams', () => {
  const at = jobsOf([{ exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades', schedule: { at: '2030-01-01' } }])[0]!;
  assert.deepEqual(at.trigger, { kind: 'once', at: '1893456000000000000' });
  assert.deepEqual(jobsOf([{ exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' }])[0]!.trigger, { kind: 'once' });
  assert.deepEqual(jobsOf([{ exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades', schedule: 'manual' }])[0]!.trigger, { kind: 'manual' });
  assert.deepEqual(jobsOf([{ operation: 'stream', exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' }])[0]!.trigger, { kind: 'supervised' });
  assert.equal(
    problem(() => jobsOf([{ exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades', schedule: 'supervised' }])),
    'jobs[0].schedule: supervised applies to streams; a backfill runs once, every, cron, at or manual',
  );
});

test('two entries for one dataset, a symbol the venue cannot read, a start in the future: refused, naming the job', () => {
  const one = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' };
  assert.equal(
    problem(() => jobsOf([one, { ...one, symbol: 'BTCUSDT', schedule: { every: '1h' } }])),
    'jobs[1].symbol: backfill:binance:BTC-USDT:trades is also jobs[0].symbol: one job per dataset and operation',
  );
  assert.match(problem(() => jobsOf([{ ...one, symbol: 'BTC*USDT' }])), /^jobs\[0\]\.symbol: /);
  assert.match(problem(() => jobsOf([{ ...one, start: '2200-01-01', schedule: { every: '1h' } }])), /^job backfill:binance:BTC-USDT:trades: start: .* is in the future$/);
  assert.match(problem(() => jobsOf([{ ...one, exchange: 'kraken' }])), /^kraken: not implemented yet/);
});

test('a stream job takes flush settings, which are part of its version; a backfill does not take them', () => {
  const one = { operation: 'stream', exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' };
  const [plain] = jobsOf([one]);
  const [tuned] = jobsOf([{ ...one, flushRows: 500, flushInterval: '5s' }]);
  assert.deepEqual(tuned!.params, { start: 'last', flushRows: 500, flushInterval: '5s' });
  assert.notEqual(specVersion(plain!), specVersion(tuned!), 'new flush settings are a new version: its stream restarts');
  assert.equal(summaryOf(tuned!), 'stream binance BTC/USDT trades supervised, flushed every 500 rows or 5s');
  assert.equal(summaryOf(plain!), 'stream binance BTC/USDT trades supervised, flushed every 1000 rows or 10s');
  assert.equal(problem(() => jobsOf([{ ...one, kind: 'trades', operation: 'backfill', flushRows: 10 }])), 'config: jobs[0].flushRows: only applies to operation stream');
  assert.match(problem(() => jobsOf([{ ...one, flushInterval: '2h' }])), /^config: jobs\[0\]\.flushInterval: '2h' is not from 1s to 1h/);
  assert.match(problem(() => jobsOf([{ ...one, flushRows: 0 }])), /^config: jobs\[0\]\.flushRows: /);
});

test('a book stream job takes a depth and a snapshot interval, checked as dccd stream checks them', () => {
  const book = { operation: 'stream', exchange: 'binance', symbol: 'BTC/USDT', kind: 'book' };
  const [spec] = jobsOf([{ ...book, depth: 50, snapshotInterval: '5m' }]);
  assert.equal(spec!.id, 'stream:binance:BTC-USDT:book');
  assert.deepEqual(spec!.params, { start: 'last', depth: 50, snapshotInterval: '5m' });
  assert.deepEqual(streamJobRequest(offlineAdapters(), spec!), { target: spec!.target, depth: 50, snapshotIntervalMs: 300_000, specId: spec!.id, specVersion: specVersion(spec!) });
  assert.equal(summaryOf(spec!), 'stream binance BTC/USDT book supervised, flushed every 1000 rows or 10s, 50 levels, a snapshot every 5m');
  assert.equal(problem(() => jobsOf([{ ...book, depth: 6000 }])), 'job stream:binance:BTC-USDT:book: depth: must be a whole number from 1 to 5000 levels, got 6000');
  assert.equal(problem(() => jobsOf([{ ...book, snapshotInterval: '2d' }])), 'job stream:binance:BTC-USDT:book: snapshotInterval: must be a whole number from 1000 to 86400000 ms, got 172800000');
  assert.equal(problem(() => jobsOf([{ ...book, kind: 'trades', depth: 5 }])), 'job stream:binance:BTC-USDT:trades: depth: only applies to kind book, not trades');
});
