// A disk that refuses a write fails it at once with a StorageError naming the path and the
// reason; transient and unknown failures keep their own errors. Every failure here is real:
// as root, permission bits stop nothing, so the tests use a file where a folder should be,
// /sys and /dev/full, and children run as nobody or in a mount namespace (disk-faults.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { StorageError } from '../../src/domain/errors.ts';
import type { Target } from '../../src/domain/target.ts';
import { NS_PER_DAY } from '../../src/domain/time.ts';
import { partFileName } from '../../src/storage/parquet-layout.ts';
import { ParquetStore } from '../../src/storage/parquet-store.ts';
import { permanentCode } from '../../src/storage/storage-failure.ts';
import { lockForWriting, withoutOverride, withReadOnly, withTinyDisk } from '../helpers/disk-faults.ts';
import { DAY0, PROV, makeTrades } from '../helpers/store-fixtures.ts';
import type { ChildOutcome } from '../helpers/store-write-child.ts';

const TRADES: Target & { kind: 'trades' } = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' };
const DAY = { startNs: DAY0, endNs: DAY0 + NS_PER_DAY };
const CHILD = fileURLToPath(new URL('../helpers/store-write-child.ts', import.meta.url));

async function scratch(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dccd-disk-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The store write of store-write-child.ts, behind `prefix`. */
async function writeInChild(prefix: string[], dataPath: string, rows: number): Promise<ChildOutcome> {
  const [command, ...args] = [...prefix, process.execPath, '--import', 'tsx', CHILD, dataPath, String(rows)];
  const { stdout } = await promisify(execFile)(command!, args, { timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildOutcome;
}

/** The error a rejected promise carries. */
async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
}

async function duckdbError(sql: string): Promise<unknown> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    return await failure(conn.run(sql));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** The part a one-day write of TRADES makes. */
const partIn = (dataPath: string): string => join(dataPath, 'trades', 'exchange=binance', 'symbol=BTC-USDT', 'date=2024-01-01', partFileName(DAY));

/** What a child reports when its write of `part` was refused for `reason`. */
const refused = (part: string, reason: string) => ({ type: 'StorageError', path: part, reason, action: 'write', message: `cannot write ${part}: ${reason}`, retryable: false });

test('permanent failures are told apart from transient ones, in Node\'s and in DuckDB\'s words', async (t) => {
  const dir = await scratch(t);
  const file = join(dir, 'a-file');
  await writeFile(file, 'x');
  assert.equal(permanentCode(await failure(writeFile('/dev/full', 'x'))), 'ENOSPC');
  assert.equal(permanentCode(await failure(mkdir(join(file, 'sub')))), 'ENOTDIR');
  assert.equal(permanentCode(await failure(open(dir, 'w'))), 'EISDIR');
  assert.equal(permanentCode(await duckdbError(`COPY (SELECT 1 AS a) TO '/dev/full' (FORMAT parquet)`)), 'ENOSPC');
  assert.equal(permanentCode(await duckdbError(`COPY (SELECT 1 AS a) TO '${file}/x.parquet' (FORMAT parquet)`)), 'ENOTDIR');
  // A file deleted by a concurrent write, or a folder not made yet: retried as before.
  assert.equal(permanentCode(await failure(readFile(join(dir, 'gone')))), undefined);
  assert.equal(permanentCode(await duckdbError(`COPY (SELECT 1 AS a) TO '${dir}/no/such/x.parquet' (FORMAT parquet)`)), undefined);
  assert.equal(permanentCode(await duckdbError(`SELECT * FROM read_parquet('${dir}/gone.parquet')`)), undefined);
  assert.equal(permanentCode(new Error('Connection refused')), undefined);
});

test('a data folder below a regular file fails with the folder it could not read and ENOTDIR, not a retry', async (t) => {
  const dir = await scratch(t);
  await writeFile(join(dir, 'a-file'), 'x');
  const dataPath = join(dir, 'a-file', 'data');
  const store = new ParquetStore(dataPath);
  t.after(() => store.close());
  const e = await failure(store.write(TRADES, makeTrades(10, DAY0, NS_PER_DAY), DAY, PROV));
  assert.ok(e instanceof StorageError, String(e));
  assert.equal(e.message, `cannot read ${dataPath}: not a directory (ENOTDIR)`);
  assert.equal(e.retryable, false);
});

test('a file where a partition folder belongs fails the write with the part it was writing', async (t) => {
  const dataPath = await scratch(t);
  const store = new ParquetStore(dataPath);
  t.after(() => store.close());
  await mkdir(store.datasetPath(TRADES), { recursive: true });
  await writeFile(join(store.datasetPath(TRADES), 'date=2024-01-01'), 'not a folder');
  const e = await failure(store.write(TRADES, makeTrades(10, DAY0, NS_PER_DAY), DAY, PROV));
  assert.ok(e instanceof StorageError, String(e));
  assert.equal(e.type, 'StorageError');
  assert.equal(e.path, partIn(dataPath));
  assert.equal(e.reason, 'not a directory (ENOTDIR)');
  assert.equal(e.message, `cannot write ${partIn(dataPath)}: not a directory (ENOTDIR)`);
});

test('writes under /sys, which even root may not create in, fail with the path and the kernel\'s reason', async (t) => {
  // mkdir in sysfs is EPERM and a new file EACCES here; a read-only /sys gives EROFS.
  const sysReason = /^(operation not permitted \(EPERM\)|permission denied \(EACCES\)|read-only file system \(EROFS\))$/;
  const sysData = `/sys/dccd-test-${process.pid}`;
  const sysStore = new ParquetStore(sysData);
  t.after(() => sysStore.close());
  const e = await failure(sysStore.write(TRADES, makeTrades(10, DAY0, NS_PER_DAY), DAY, PROV));
  assert.ok(e instanceof StorageError, String(e));
  assert.equal(e.path, partIn(sysData));
  assert.match(e.reason, sysReason);

  // DuckDB's COPY, not Node, meets this one: the folder exists, the temp file cannot be made.
  const store = new ParquetStore(await scratch(t));
  t.after(() => store.close());
  await store.write(TRADES, makeTrades(10, DAY0, NS_PER_DAY), DAY, PROV);
  const out = `/sys/dccd-export-${process.pid}.parquet`;
  const x = await failure(store.exportParquet(TRADES, out));
  assert.ok(x instanceof StorageError, String(x));
  assert.equal(x.message.startsWith(`cannot write ${out}: `), true, x.message);
  assert.match(x.reason, sysReason);
});

test('without the right to change a folder, a write fails in DuckDB\'s COPY with EACCES and leaves the stored rows', async (t) => {
  const dataPath = await scratch(t);
  const store = new ParquetStore(dataPath);
  t.after(() => store.close());
  const rows = makeTrades(50, DAY0, NS_PER_DAY, 9);
  await store.write(TRADES, rows, DAY, PROV);
  await lockForWriting(dataPath);

  const child = await writeInChild(withoutOverride(), dataPath, 100);
  assert.deepEqual(child.error, refused(partIn(dataPath), 'permission denied (EACCES)'));
  assert.deepEqual(child.files, ['.dccd/layout-version', relative(dataPath, partIn(dataPath))]);
  assert.deepEqual(await store.readRows(TRADES), rows);
});

test('on a read-only mount the write fails with EROFS, which Node\'s recursive mkdir would report as ENOENT', async (t) => {
  const dataPath = await scratch(t);
  const child = await writeInChild(withReadOnly(dataPath), dataPath, 100);
  assert.deepEqual(child.error, refused(partIn(dataPath), 'read-only file system (EROFS)'));
  assert.deepEqual(child.files, []);
});

test('on a full disk the write fails with ENOSPC and leaves no temp file or partial part behind', async (t) => {
  const dataPath = await scratch(t);
  const child = await writeInChild(withTinyDisk(dataPath, '64k'), dataPath, 50_000);
  assert.deepEqual(child.error, refused(partIn(dataPath), 'no space left on device (ENOSPC)'));
  assert.deepEqual(child.files, ['.dccd/layout-version']);
});
