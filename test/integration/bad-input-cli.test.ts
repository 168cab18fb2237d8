// Bad input to the real `dccd`, case by case: one readable line naming the field (or path)
// and the reason, a non-zero exit, no stack trace and nothing written. And the edge of
// good input next to it: a read of an empty range is a note and exit 0.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSim } from '../../src/sim/index.ts';
import { ParquetStore } from '../../src/storage/parquet-store.ts';
import { NS_PER_HOUR, parseAbsoluteTime } from '../../src/domain/time.ts';
import { runDccd } from '../helpers/dccd-process.ts';
import { lockForWriting, withoutOverride } from '../helpers/disk-faults.ts';

const dir = mkdtempSync(join(tmpdir(), 'dccd-bad-input-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// Root bypasses permission bits, so the unwritable cases run as root without that power,
// in a folder given to nobody and made read-only.
const locked = join(dir, 'locked');
mkdirSync(locked);
await lockForWriting(locked);
const UNPRIVILEGED = withoutOverride();
const file = join(dir, 'file');
writeFileSync(file, 'not a folder');
const badYaml = join(dir, 'bad.yml');
writeFileSync(badYaml, 'data: x\ntemporal:\n  port: [1\n');
const clashing = join(dir, 'clash.yml');
writeFileSync(clashing, 'temporal: { uiPort: 8080 }\n');

const sim = await startSim({ port: 0 });
after(() => sim.close());

// Nothing from the test's own environment: embedded mode, defaults, this folder.
const BASE_ENV: NodeJS.ProcessEnv = { TEMPORAL_ADDRESS: '', DATABASE_URL: '', DCCD_DATA: join(dir, 'data'), DCCD_API_PORT: '', DCCD_BINANCE_REST_URL: `${sim.url}/binance` };

const OHLC_1H = ['binance', 'BTCUSDT', '--kind', 'ohlc', '--span', '1h'];
const read = (...args: string[]) => ['read', ...OHLC_1H, ...args];
const backfill = (...args: string[]) => ['backfill', ...OHLC_1H, ...args];
const BOOK_STREAM = ['stream', 'binance', 'BTCUSDT', '--kind', 'book'];
const BOOK_READ = ['read', 'binance', 'BTCUSDT', '--kind', 'book'];

interface Case {
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Run without the capabilities that let root ignore permissions. */
  unprivileged?: boolean;
  /** The one line of output. */
  line: string;
  code?: number;
}

const jsonError = (field: string | null, reason: string, error = field ? `${field}: ${reason}` : reason) => JSON.stringify({ error, field, reason });
const dataLine = (reason: string) => `error: data: ${reason}`;

const CASES: Record<string, Case> = {
  // 1. times
  'a start in seconds': { args: read('--start', '1704067200'), line: 'error: --start: 1704067200 looks like seconds; in ns that is 1704067200000000000 (2024-01-01T00:00:00Z)' },
  'a start in milliseconds': { args: read('--start', '1704067200123'), line: 'error: --start: 1704067200123 looks like milliseconds; in ns that is 1704067200123000000 (2024-01-01T00:00:00.123Z)' },
  'an end in microseconds': { args: read('--end', '1704067200123456'), line: 'error: --end: 1704067200123456 looks like microseconds; in ns that is 1704067200123456000 (2024-01-01T00:00:00.123456Z)' },
  'a negative start': { args: read('--start=-5'), line: 'error: --start: -5 is negative; times are ns since 1970-01-01T00:00:00Z' },
  'a start beyond int64': { args: read('--start', '99999999999999999999'), line: 'error: --start: 99999999999999999999 is beyond 2262-04-11T23:47:16.854775807Z, the last instant int64 ns can hold' },
  'a five-digit year': { args: read('--start', '99999-01-01'), line: "error: --start: '99999-01-01' is after 2262-04-11T23:47:16.854775807Z, the last instant int64 ns can hold" },
  'the year 0': { args: read('--start', '0000-01-01'), line: "error: --start: '0000-01-01' is before 1970-01-01T00:00:00Z; times are ns since then, never negative" },
  'a backfill start in seconds': { args: backfill('--start', '1704067200'), line: 'error: start: 1704067200 looks like seconds; in ns that is 1704067200000000000 (2024-01-01T00:00:00Z)' },
  'a backfill end beyond int64': { args: backfill('--start', '2024-01-01', '--end', '9223372036854775808'), line: 'error: end: 9223372036854775808 is beyond 2262-04-11T23:47:16.854775807Z, the last instant int64 ns can hold' },

  // 1b. times checked against the venue and the clock, before any run
  'a backfill start in the future': { args: backfill('--start', '2099-01-01'), line: 'error: start: 2099-01-01T00:00:00.000000000Z is in the future' },
  'a range that ends before the venue has data': {
    args: backfill('--start', '2010-01-01', '--end', '2011-01-01'),
    line: "error: end: binance's BTC/USDT ohlc-1h history starts 2017-08-17T00:00:00.000000000Z; the range ends before it",
  },
  'a book backfill with a start': {
    args: ['backfill', 'binance', 'BTCUSDT', '--kind', 'book', '--start', '2024-01-01'],
    line: 'error: start: a book backfill takes one snapshot of the current order book (up to 5000 levels per side); start and end do not apply (a book stream records it over time)',
  },
  'a book backfill with an end': {
    args: ['backfill', 'binance', 'BTCUSDT', '--kind', 'book', '--end', '2024-01-01'],
    line: 'error: end: a book backfill takes one snapshot of the current order book (up to 5000 levels per side); start and end do not apply (a book stream records it over time)',
  },

  // 2. config and environment
  'DCCD_API_PORT out of range': { args: ['validate'], env: { DCCD_API_PORT: '99999' }, line: "DCCD_API_PORT: '99999' is not a port (0–65535)", code: 2 },
  'DCCD_API_PORT out of range for start': { args: ['start'], env: { DCCD_API_PORT: '99999' }, line: "DCCD_API_PORT: '99999' is not a port (0–65535)", code: 2 },
  'DCCD_TEMPORAL_PORT not a number': { args: ['validate'], env: { DCCD_TEMPORAL_PORT: 'abc' }, line: "DCCD_TEMPORAL_PORT: 'abc' is not a port (0–65535)", code: 2 },
  'DCCD_TEMPORAL_UI_PORT out of range': { args: ['validate'], env: { DCCD_TEMPORAL_UI_PORT: '70000' }, line: "DCCD_TEMPORAL_UI_PORT: '70000' is not a port (0–65535)", code: 2 },
  'TEMPORAL_ADDRESS without a port': { args: ['validate'], env: { TEMPORAL_ADDRESS: 'temporal' }, line: "TEMPORAL_ADDRESS: 'temporal' is not host:port", code: 2 },
  'DATABASE_URL not postgres': { args: ['validate'], env: { DATABASE_URL: 'mysql://db/dccd' }, line: 'DATABASE_URL: must be a URL (postgres: or postgresql:)', code: 2 },
  'a YAML syntax error': {
    args: ['validate', badYaml],
    line: `${badYaml}: line 4, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]`,
    code: 2,
  },
  'two keys on one port in the file': { args: ['validate', clashing], line: `${clashing}: temporal.uiPort: 8080 is also api.port`, code: 2 },
  'a variable on the port of a key': { args: ['validate'], env: { DCCD_TEMPORAL_UI_PORT: '8080' }, line: 'DCCD_TEMPORAL_UI_PORT: 8080 is also api.port', code: 2 },

  // 3. the data folder
  'a data folder that is a file': { args: ['start'], env: { DCCD_DATA: file }, line: dataLine(`${file} is a file, not a folder`) },
  'a data folder under a file': { args: ['start'], env: { DCCD_DATA: join(file, 'data') }, line: dataLine(`cannot create ${file}/data: ${file} is a file, not a folder`) },
  'a data folder under /proc': { args: ['start'], env: { DCCD_DATA: '/proc/x' }, line: dataLine('cannot create /proc/x (ENOENT: /proc does not accept new folders)') },
  'a data folder under /sys': { args: ['start'], env: { DCCD_DATA: '/sys/x' }, line: dataLine('cannot create /sys/x (EPERM: operation not permitted)') },
  'a data folder that cannot be written': { args: ['start'], env: { DCCD_DATA: locked }, unprivileged: true, line: dataLine(`${locked} is not writable (EACCES: permission denied)`) },
  'a data folder whose parent cannot be created': { args: ['start'], env: { DCCD_DATA: join(locked, 'sub', 'data') }, unprivileged: true, line: dataLine(`cannot create ${locked}/sub (EACCES: permission denied)`) },
  'a worker on a data folder under /proc': {
    args: ['worker'],
    env: { DCCD_DATA: '/proc/x', TEMPORAL_ADDRESS: '127.0.0.1:1' },
    line: dataLine('cannot create /proc/x (ENOENT: /proc does not accept new folders)'),
  },
  'a backfill on a data folder under /proc': { args: backfill('--start', '2024-01-01', '--end', '2024-01-02'), env: { DCCD_DATA: '/proc/x' }, line: dataLine('cannot create /proc/x (ENOENT: /proc does not accept new folders)') },
  'a read of a data folder that is a file': { args: read(), env: { DCCD_DATA: file }, line: dataLine(`${file} is a file, not a folder`) },

  // 4. read --out
  'read --out a folder': { args: read('--out', dir), line: `error: --out: ${dir} is a folder (EISDIR)` },
  'read --out into a missing folder': { args: read('--out', '/no/such/dir/x.csv'), line: 'error: --out: cannot write /no/such/dir/x.csv: folder /no/such/dir does not exist (ENOENT)' },
  'read --out into an unwritable folder': { args: read('--out', join(locked, 'x.csv')), unprivileged: true, line: `error: --out: cannot write ${locked}/x.csv (EACCES: permission denied)` },
  'read --format parquet --out a folder': { args: read('--format', 'parquet', '--out', dir), line: `error: --out: ${dir} is a folder (EISDIR)` },

  // 5. --json errors
  'backfill --json with a bad kind': {
    args: ['backfill', 'binance', 'BTCUSDT', '--kind', 'candles', '--json'],
    line: jsonError('--kind', "unknown kind 'candles' (known: ohlc, trades, book)"),
  },
  'backfill --json with a start in seconds': {
    args: backfill('--start', '1704067200', '--json'),
    line: jsonError('start', '1704067200 looks like seconds; in ns that is 1704067200000000000 (2024-01-01T00:00:00Z)'),
  },
  'backfill --json without --kind': { args: ['backfill', 'binance', 'BTCUSDT', '--json'], line: jsonError(null, "required option '-k, --kind <kind>' not specified") },
  'backfill --json with a bad environment': {
    args: backfill('--json'),
    env: { DCCD_API_PORT: '99999' },
    line: jsonError('DCCD_API_PORT', "'99999' is not a port (0–65535)"),
    code: 2,
  },

  // 6. book streams and a book at one instant
  'a book stream deeper than the venue serves': { args: [...BOOK_STREAM, '--depth', '6000'], line: 'error: --depth: must be a whole number from 1 to 5000 levels, got 6000' },
  'a depth for a trades stream': { args: ['stream', 'binance', 'BTCUSDT', '--kind', 'trades', '--depth', '5'], line: 'error: --depth: only applies to kind book, not trades' },
  'a snapshot interval that is no duration': { args: [...BOOK_STREAM, '--snapshot-interval', '5x'], line: "error: --snapshot-interval: '5x' is not a duration such as '30s', '15m', '1h', '1d'" },
  'a snapshot interval under a second': { args: [...BOOK_STREAM, '--snapshot-interval', '500ms'], line: "error: --snapshot-interval: '500ms' is not a duration such as '30s', '15m', '1h', '1d'" },
  'a snapshot interval over a day': { args: [...BOOK_STREAM, '--snapshot-interval', '2d'], line: 'error: --snapshot-interval: must be a whole number from 1000 to 86400000 ms, got 172800000' },
  'read --at of candles': { args: read('--at', '2024-01-01'), line: 'error: --at: only applies to kind book, not ohlc-1h' },
  'read --at with --start': { args: [...BOOK_READ, '--at', '2024-01-01', '--start', '2024-01-01'], line: 'error: --at: reads the book at one instant: leave out --start' },
  'read --depth without --at': { args: [...BOOK_READ, '--depth', '3'], line: 'error: --depth: only applies with --at (a book at one instant)' },
  'read --at --depth not a number': { args: [...BOOK_READ, '--at', '2024-01-01', '--depth', 'x'], line: "error: --depth: 'x' is not a whole number of levels from 1 to 100000" },
  'read --at as parquet': { args: [...BOOK_READ, '--at', '2024-01-01', '--format', 'parquet', '--out', 'x.parquet'], line: 'error: --format: parquet is for ranges; a book at one instant (--at) is read as csv, json, jsonl, arrow' },

  // 7. sim
  'sim --port out of range': { args: ['sim', '--port', '70000'], line: "error: --port: '70000' is not a port (0–65535)" },
  'sim --port not a number': { args: ['sim', '--port', 'abc'], line: "error: --port: 'abc' is not a port (0–65535)" },
};

/** Runs `dccd` to its exit; a command that hangs (as DCCD_DATA=/proc/x start used to) fails the test. */
async function dccd(args: string[], env: NodeJS.ProcessEnv = {}, unprivileged = false) {
  const p = runDccd(args, { ...BASE_ENV, ...env }, dir, unprivileged ? { prefix: UNPRIVILEGED } : {});
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 30_000);
  const { code, signal } = await p.exited;
  clearTimeout(timer);
  return { code, signal, output: p.output() };
}

test('every bad input is one line naming the field and the reason, with a non-zero exit', async () => {
  const failures: string[] = [];
  // Two at a time: each case is a whole Node process.
  const names = Object.keys(CASES);
  for (let i = 0; i < names.length; i += 2) {
    await Promise.all(
      names.slice(i, i + 2).map(async (name) => {
        const c = CASES[name]!;
        const r = await dccd(c.args, c.env, c.unprivileged);
        const expected = `${c.line}\n`;
        if (r.output !== expected || r.code !== (c.code ?? 1)) {
          failures.push(`${name}: exit ${r.code ?? r.signal}, output:\n${r.output}expected (exit ${c.code ?? 1}):\n${expected}`);
        }
      }),
    );
  }
  assert.deepEqual(failures, []);
  // Nothing half-written: no data folder, probe or temp file was left anywhere we pointed.
  assert.deepEqual(readdirSync(dir).sort(), ['bad.yml', 'clash.yml', 'file', 'locked']);
  assert.deepEqual(readdirSync(locked), []);
  assert.equal(existsSync('/no/such/dir'), false);
});

test('--json errors go to stdout alone, as one parseable object', async () => {
  const p = runDccd(backfill('--start', '1704067200', '--json'), BASE_ENV, dir);
  let stdout = '';
  p.child.stdout!.on('data', (d) => (stdout += d));
  assert.equal((await p.exited).code, 1);
  assert.equal(p.output(), stdout, 'nothing on stderr');
  assert.deepEqual(Object.keys(JSON.parse(stdout)), ['error', 'field', 'reason']);
});

test('a read of a range with no rows notes it on stderr and exits 0; json is an array, jsonl one object a line', async (t) => {
  const data = mkdtempSync(join(tmpdir(), 'dccd-read-'));
  t.after(() => rmSync(data, { recursive: true, force: true }));
  const env = { DCCD_DATA: data };
  const target = { exchange: 'binance' as const, symbol: 'BTC/USDT', kind: 'ohlc' as const, span: '1h' };
  const t0 = parseAbsoluteTime('2024-01-01', 't');
  const outputs = async (...args: string[]) => {
    const p = runDccd(read(...args), { ...BASE_ENV, ...env }, data);
    let stdout = '';
    p.child.stdout!.on('data', (d) => (stdout += d));
    const { code } = await p.exited;
    return { code, stdout, stderr: p.output().replace(stdout, '') };
  };

  const none = 'note: no rows for binance BTC/USDT ohlc-1h; the dataset has no data at all\n';
  assert.deepEqual(await outputs(), { code: 0, stdout: 'ts,ts_ns,open,high,low,close,volume,quote_volume,trades\n', stderr: none });
  assert.deepEqual(await outputs('--format', 'json'), { code: 0, stdout: '[]\n', stderr: none });
  assert.deepEqual(await outputs('--format', 'jsonl'), { code: 0, stdout: '', stderr: none });

  const store = new ParquetStore(data);
  const candle = (i: bigint) => ({ ts: t0 + i * NS_PER_HOUR, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10, quoteVolume: 15, trades: 3 });
  await store.write(target, [candle(0n), candle(1n)], { startNs: t0, endNs: t0 + 2n * NS_PER_HOUR }, { source: 'binance:rest', adapterVersion: 'test/1' });
  await store.close();

  const empty = await outputs('--start', '2024-02-01', '--end', '2024-02-02', '--format', 'json');
  assert.deepEqual(empty, {
    code: 0,
    stdout: '[]\n',
    stderr:
      'note: no rows in [2024-02-01T00:00:00.000000000Z, 2024-02-02T00:00:00.000000000Z) for binance BTC/USDT ohlc-1h; ' +
      'its rows run from 2024-01-01T00:00:00.000000000Z to 2024-01-01T01:00:00.000000000Z\n',
  });

  const json = await outputs('--format', 'json');
  assert.equal(json.code, 0);
  assert.equal(json.stderr, '');
  const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
  assert.deepEqual(
    rows.map((r) => [r.ts, r.ts_ns]),
    [
      ['2024-01-01T00:00:00.000000000Z', '1704067200000000000'],
      ['2024-01-01T01:00:00.000000000Z', '1704070800000000000'],
    ],
  );
  const jsonl = await outputs('--format', 'jsonl');
  assert.deepEqual(jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l)), rows);
});
