// The config file's jobs edited in place: only the entry concerned changes, every other byte
// (comments, key order, quoting, blank lines) stays; a job of a several-symbol entry is split
// out without touching its siblings; the file is replaced whole or not at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  appendJobEntry,
  removeEntrySymbol,
  removeJobEntry,
  replaceFile,
  replaceJobEntry,
  splitJobEntry,
} from '../../src/config/config-file-edits.ts';
import { configFromText } from '../../src/config/load-config.ts';
import { specVersion } from '../../src/domain/job-spec.ts';
import { checkConfigJobs } from '../../src/jobs/job-plan.ts';
import { withTinyDisk } from '../helpers/disk-faults.ts';

const HEAD = `# dccd for the desk   (hand-written)
data: "./data"        # quoted on purpose
api: {port: 8081}
jobs:
  # hourly candles, two pairs
  - { exchange: binance, symbols: [BTC/USDT, ETH/USDT, BNB/USDT], kind: ohlc, span: 1h, start: 2024-01-01, schedule: { every: 1h } }
`;
const BLOCK = `  - exchange: binance   # trades, by hand
    symbol: BTCUSDT
    kind: trades
    schedule:
      cron: '*/15 * * * *'
`;
const TAIL = `
  - {exchange: binance, symbol: BNB/BTC, kind: ohlc, span: 1d, start: origin}   # once
# the end
temporal:
  namespace: desk
`;
const FILE = HEAD + BLOCK + TAIL;
const NEW = { exchange: 'binance', symbol: 'SOL/USDT', kind: 'ohlc', span: '1m', schedule: { every: '5m' }, origin: 'api' };

const specsOf = (text: string) => checkConfigJobs(configFromText(text, { path: 'dccd.yml', env: {} }));
const versions = (text: string) => new Map(specsOf(text).map((s) => [s.id, `${specVersion(s)} ${s.enabled} ${s.origin}`]));

test('a new entry goes after the last one, in its style; nothing else moves', () => {
  const out = appendJobEntry(FILE, NEW);
  const line = '  - { exchange: binance, symbol: SOL/USDT, kind: ohlc, span: 1m, schedule: { every: 5m }, origin: api }\n';
  const at = FILE.indexOf('# the end');
  assert.equal(out, FILE.slice(0, at) + line + FILE.slice(at));
  assert.equal(specsOf(out).at(-1)!.origin, 'api');
});

test('no jobs yet: a missing file, a file without jobs:, jobs: with nothing under it, jobs: []', () => {
  const line = '  - { exchange: binance, symbol: SOL/USDT, kind: ohlc, span: 1m, schedule: { every: 5m }, origin: api }\n';
  assert.match(appendJobEntry(undefined, NEW), new RegExp(`^# .*\\njobs:\\n${escape(line)}$`));
  assert.equal(appendJobEntry('data: ./d   # c', NEW), `data: ./d   # c\njobs:\n${line}`);
  assert.equal(appendJobEntry('jobs:   # none yet\n  # - { old }\napi: {}\n', NEW), `jobs:   # none yet\n${line}  # - { old }\napi: {}\n`);
  assert.equal(appendJobEntry('jobs: [] # soon\napi: {}\n', NEW), `jobs: # soon\n${line}api: {}\n`);
  for (const text of [undefined, 'data: ./d', 'jobs:\n', 'jobs: []\n']) assert.deepEqual(specsOf(appendJobEntry(text, NEW)).map((s) => s.id), ['backfill:binance:SOL-USDT:ohlc-1m']);
});

test('a replaced entry keeps its style and place; the bytes around it are the same', () => {
  const out = replaceJobEntry(FILE, 1, { exchange: 'binance', symbol: 'BTCUSDT', kind: 'trades', schedule: { cron: '0 * * * *' }, enabled: false });
  assert.equal(out, `${HEAD}  - exchange: binance\n    symbol: BTCUSDT\n    kind: trades\n    schedule:\n      cron: 0 * * * *\n    enabled: false\n${TAIL}`);
  const flow = replaceJobEntry(FILE, 2, { exchange: 'binance', symbol: 'BNB/BTC', kind: 'ohlc', span: '1d', start: '2020-01-01' });
  assert.equal(flow, FILE.replace('{exchange: binance, symbol: BNB/BTC, kind: ohlc, span: 1d, start: origin}', '{ exchange: binance, symbol: BNB/BTC, kind: ohlc, span: 1d, start: 2020-01-01 }'));
});

test('an entry removed takes its lines with it, and only them', () => {
  assert.equal(removeJobEntry(FILE, 1), HEAD + TAIL);
  assert.equal(removeJobEntry(FILE, 2), HEAD + BLOCK + '\n# the end\ntemporal:\n  namespace: desk\n');
  const all = removeJobEntry(removeJobEntry(removeJobEntry(FILE, 2), 1), 0);
  assert.deepEqual(specsOf(all), []);
  assert.ok(all.startsWith('# dccd for the desk   (hand-written)\ndata: "./data"        # quoted on purpose\napi: {port: 8081}\njobs:\n  # hourly candles, two pairs\n'));
});

test('one symbol split out of a several-symbol entry: its siblings keep their definition, the rest of the file its bytes', () => {
  const out = splitJobEntry(FILE, 0, 1, { exchange: 'binance', symbol: 'ETH/USDT', kind: 'ohlc', span: '1h', start: '2024-01-01', schedule: { every: '4h' } });
  assert.equal(
    out,
    FILE.replace(
      '[BTC/USDT, ETH/USDT, BNB/USDT], kind: ohlc, span: 1h, start: 2024-01-01, schedule: { every: 1h } }\n',
      '[BTC/USDT, BNB/USDT], kind: ohlc, span: 1h, start: 2024-01-01, schedule: { every: 1h } }\n  - { exchange: binance, symbol: ETH/USDT, kind: ohlc, span: 1h, start: 2024-01-01, schedule: { every: 4h } }\n',
    ),
  );
  const before = versions(FILE);
  const after = versions(out);
  assert.deepEqual([...after.keys()], ['backfill:binance:BTC-USDT:ohlc-1h', 'backfill:binance:BNB-USDT:ohlc-1h', 'backfill:binance:ETH-USDT:ohlc-1h', 'backfill:binance:BTC-USDT:trades', 'backfill:binance:BNB-BTC:ohlc-1d']);
  for (const id of ['backfill:binance:BTC-USDT:ohlc-1h', 'backfill:binance:BNB-USDT:ohlc-1h', 'backfill:binance:BTC-USDT:trades', 'backfill:binance:BNB-BTC:ohlc-1d']) assert.equal(after.get(id), before.get(id), id);
  assert.notEqual(after.get('backfill:binance:ETH-USDT:ohlc-1h'), before.get('backfill:binance:ETH-USDT:ohlc-1h'));

  // First, last, and from a block list.
  assert.match(removeEntrySymbol(FILE, 0, 0), /symbols: \[ETH\/USDT, BNB\/USDT\]/);
  assert.match(removeEntrySymbol(FILE, 0, 2), /symbols: \[BTC\/USDT, ETH\/USDT\]/);
  const block = 'jobs:\n  - exchange: binance\n    symbols:\n      - BTCUSDT   # first\n      - ETHUSDT\n    kind: trades\n';
  assert.equal(removeEntrySymbol(block, 0, 0), 'jobs:\n  - exchange: binance\n    symbols:\n      - ETHUSDT\n    kind: trades\n');
  assert.equal(removeEntrySymbol(block, 0, 1), 'jobs:\n  - exchange: binance\n    symbols:\n      - BTCUSDT   # first\n    kind: trades\n');
});

test('the file is replaced whole: its permissions kept, a symlink followed, no temporary file left', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dccd-edit-'));
  try {
    const real = join(dir, 'real.yml');
    writeFileSync(real, FILE);
    chmodSync(real, 0o600);
    symlinkSync(real, join(dir, 'dccd.yml'));
    await replaceFile(join(dir, 'dccd.yml'), appendJobEntry(FILE, NEW));
    assert.equal(readFileSync(real, 'utf8'), appendJobEntry(FILE, NEW));
    assert.equal(statSync(real).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).sort(), ['dccd.yml', 'real.yml']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a write the disk refuses part-way leaves the old file as it was, and no temporary file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dccd-edit-full-'));
  try {
    const child = fileURLToPath(new URL('../helpers/replace-file-child.ts', import.meta.url));
    const [command, ...args] = [...withTinyDisk(dir, '64k'), process.execPath, '--import', 'tsx', child, join(dir, 'dccd.yml')];
    const r = spawnSync(command!, args, { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const outcome = JSON.parse(r.stdout) as { error: string; kept: boolean; files: string[] };
    assert.match(outcome.error, /^cannot write .*dccd\.yml: ENOSPC/);
    assert.equal(outcome.kept, true, 'the old file is intact');
    assert.deepEqual(outcome.files, ['dccd.yml']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
