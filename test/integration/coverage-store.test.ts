// The coverage manifest, against embedded Postgres (PGlite) always and against a real
// PostgreSQL when DCCD_TEST_DATABASE_URL is set: each behaviour is written once and
// registered for every backend available.
import { spawn, spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/domain/errors.ts';
import type { Target } from '../../src/domain/target.ts';
import { MANIFEST_SCHEMA, openCoverageStore } from '../../src/storage/coverage-store.ts';
import type { CoverageStore } from '../../src/storage/coverage-store.ts';
import { EmbeddedDatabaseBusy, embeddedDatabasePaths, pgliteTemplate } from '../../src/storage/embedded-postgres.ts';
import { MIGRATIONS, migrate } from '../../src/storage/migrations.ts';
import type { Migration } from '../../src/storage/migrations.ts';
import { openSqlDatabase } from '../../src/storage/sql-database.ts';
import type { SqlDatabase } from '../../src/storage/sql-database.ts';
import { tempDataPath, testBackends } from '../helpers/postgres.ts';
import type { FreshDatabase, TestBackend } from '../helpers/postgres.ts';

const BTC_1M: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' };
const BTC_1H: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1h' };
const ETH_TRADES: Target = { exchange: 'binance', symbol: 'ETH/USDT', kind: 'trades' };
const KRAKEN_BOOK: Target = { exchange: 'kraken', symbol: 'BTC/USD', kind: 'book' };
const MINUTE = 60_000_000_000n;
const T0 = 1_700_000_000_000_000_000n;

const cleanups = new WeakMap<TestContext, (() => unknown)[]>();

/** Runs `fn` when the test ends, before what was deferred earlier (t.after runs first-in first-out). */
function defer(t: TestContext, fn: () => unknown): void {
  let stack = cleanups.get(t);
  if (!stack) {
    cleanups.set(t, (stack = []));
    t.after(async () => {
      for (const f of stack!.reverse()) await f();
    });
  }
  stack.push(fn);
}

async function freshDatabase(backend: TestBackend, t: TestContext): Promise<FreshDatabase> {
  const db = await backend.fresh();
  defer(t, () => db.dispose());
  return db;
}

async function openStore(options: FreshDatabase['options'], t: TestContext): Promise<CoverageStore> {
  const store = await openCoverageStore(options);
  defer(t, () => store.close());
  return store;
}

async function openSql(options: FreshDatabase['options'], t: TestContext): Promise<SqlDatabase> {
  const db = await openSqlDatabase(options);
  defer(t, () => db.close());
  return db;
}

async function freshStore(backend: TestBackend, t: TestContext): Promise<CoverageStore> {
  return openStore((await freshDatabase(backend, t)).options, t);
}

function withoutTime<T extends { updatedAt: Date }>(e: T): Omit<T, 'updatedAt'> {
  const { updatedAt, ...rest } = e;
  assert.ok(updatedAt instanceof Date && !Number.isNaN(updatedAt.getTime()), 'updatedAt is a valid Date');
  return rest;
}

for (const backend of testBackends()) {
  const name = (behaviour: string) => `${backend.name}: ${behaviour}`;

  test(name('the first record of a dataset creates its extent'), async (t) => {
    const store = await freshStore(backend, t);
    const created = await store.record(BTC_1M, { minTs: T0, maxTs: T0 + MINUTE, rows: 2 });
    assert.deepEqual(withoutTime(created), {
      datasetId: 'binance/ohlc-1m/BTC-USDT',
      exchange: 'binance',
      symbol: 'BTC/USDT',
      kind: 'ohlc-1m',
      minTs: T0,
      maxTs: T0 + MINUTE,
      rows: 2,
    });
    assert.deepEqual(await store.get(BTC_1M), created);
  });

  test(name('the extent only widens: a narrower record never shrinks it and rows keep the larger count'), async (t) => {
    const store = await freshStore(backend, t);
    const extent = async (minTs: bigint, maxTs: bigint, rows: number) => {
      const e = await store.record(ETH_TRADES, { minTs, maxTs, rows });
      return [e.minTs, e.maxTs, e.rows];
    };
    assert.deepEqual(await extent(100n, 200n, 10), [100n, 200n, 10]);
    assert.deepEqual(await extent(150n, 160n, 3), [100n, 200n, 10]);
    assert.deepEqual(await extent(50n, 120n, 12), [50n, 200n, 12]);
    assert.deepEqual(await extent(180n, 300n, 5), [50n, 300n, 12]);
    assert.deepEqual(await extent(300n, 300n, 0), [50n, 300n, 12]);
    const stored = await store.get(ETH_TRADES);
    assert.deepEqual([stored?.minTs, stored?.maxTs, stored?.rows], [50n, 300n, 12]);
  });

  test(name('50 concurrent records end with the exact envelope of their ranges'), async (t) => {
    const store = await freshStore(backend, t);
    const extents = Array.from({ length: 50 }, (_, i) => {
      const minTs = T0 + BigInt((i * 37) % 50) * MINUTE;
      return { minTs, maxTs: minTs + BigInt((i * 13) % 50) * MINUTE, rows: (i * 29) % 50 };
    });
    await Promise.all(extents.map((e) => store.record(BTC_1M, e)));
    const stored = await store.get(BTC_1M);
    assert.deepEqual([stored?.minTs, stored?.maxTs, stored?.rows], [
      extents.reduce((m, e) => (e.minTs < m ? e.minTs : m), extents[0]!.minTs),
      extents.reduce((m, e) => (e.maxTs > m ? e.maxTs : m), extents[0]!.maxTs),
      Math.max(...extents.map((e) => e.rows)),
    ]);
  });

  test(name('get answers null for an unrecorded dataset; list gives every dataset in id order'), async (t) => {
    const store = await freshStore(backend, t);
    assert.equal(await store.get(BTC_1M), null);
    assert.deepEqual(await store.list(), []);
    for (const target of [KRAKEN_BOOK, ETH_TRADES, BTC_1H, BTC_1M]) await store.record(target, { minTs: T0, maxTs: T0, rows: 1 });
    const listed = await store.list();
    assert.deepEqual(
      listed.map((e) => [e.datasetId, e.kind]),
      [
        ['binance/ohlc-1h/BTC-USDT', 'ohlc-1h'],
        ['binance/ohlc-1m/BTC-USDT', 'ohlc-1m'],
        ['binance/trades/ETH-USDT', 'trades'],
        ['kraken/book/BTC-USD', 'book'],
      ],
    );
    assert.deepEqual(listed[3], await store.get(KRAKEN_BOOK));
  });

  test(name('ns values beyond 2^53 and at the ends of int64 come back exactly, as bigint'), async (t) => {
    const store = await freshStore(backend, t);
    const late = { minTs: 2n ** 53n + 1n, maxTs: 2n ** 63n - 1n, rows: Number.MAX_SAFE_INTEGER };
    const early = { minTs: -(2n ** 63n), maxTs: -(2n ** 53n) - 1n, rows: 0 };
    await store.record(BTC_1M, late);
    await store.record(ETH_TRADES, early);
    for (const [target, want] of [[BTC_1M, late], [ETH_TRADES, early]] as const) {
      const got = await store.get(target);
      assert.equal(typeof got?.minTs, 'bigint');
      assert.deepEqual([got?.minTs, got?.maxTs, got?.rows], [want.minTs, want.maxTs, want.rows]);
    }
    assert.deepEqual(
      (await store.list()).map((e) => [e.minTs, e.maxTs]),
      [
        [late.minTs, late.maxTs],
        [early.minTs, early.maxTs],
      ],
    );
  });

  test(name('a bad extent or target is refused naming the field, and nothing is recorded'), async (t) => {
    const store = await freshStore(backend, t);
    const refused = async (target: Target, extent: { minTs: unknown; maxTs: unknown; rows: number }, field: string) =>
      assert.rejects(store.record(target, extent as { minTs: bigint; maxTs: bigint; rows: number }), (e: unknown) => {
        assert.ok(e instanceof ValidationError, String(e));
        assert.equal(e.field, field);
        return true;
      });
    await refused(BTC_1M, { minTs: 1n, maxTs: 2n, rows: -1 }, 'rows');
    await refused(BTC_1M, { minTs: 1n, maxTs: 2n, rows: 1.5 }, 'rows');
    await refused(BTC_1M, { minTs: 1n, maxTs: 2n, rows: Number.NaN }, 'rows');
    await refused(BTC_1M, { minTs: 3n, maxTs: 2n, rows: 1 }, 'minTs');
    await refused(BTC_1M, { minTs: 1, maxTs: 2n, rows: 1 }, 'minTs');
    await refused(BTC_1M, { minTs: 1n, maxTs: 2n ** 63n, rows: 1 }, 'maxTs');
    await refused({ exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc' }, { minTs: 1n, maxTs: 2n, rows: 1 }, 'span');
    await refused({ ...ETH_TRADES, symbol: '../etc' }, { minTs: 1n, maxTs: 2n, rows: 1 }, 'symbol');
    assert.deepEqual(await store.list(), []);
  });

  const versions = MIGRATIONS.map((m) => m.version);
  const next = versions[versions.length - 1]! + 1;

  test(name('migrations apply once each; a newer list applies only its new ones'), async (t) => {
    const db = await openSql((await freshDatabase(backend, t)).options, t);
    const note: Migration = { version: next, name: 'test_note', sql: 'ALTER TABLE dccd_coverage ADD COLUMN note text' };
    assert.deepEqual(await migrate(db), versions);
    assert.deepEqual(await migrate(db), []);
    assert.deepEqual(await migrate(db, [...MIGRATIONS, note]), [next]);
    assert.deepEqual(await migrate(db, [...MIGRATIONS, note]), []);
    assert.deepEqual(await db.query('SELECT version, name FROM dccd_schema_migrations ORDER BY version'), [
      ...MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
      { version: next, name: 'test_note' },
    ]);
    await db.query(`INSERT INTO dccd_coverage VALUES ('x', 'binance', 'X/Y', 'trades', 1, 2, 3, now(), 'note')`);
    await assert.rejects(migrate(db, [note, ...MIGRATIONS]), new RegExp(`migration 'coverage': version 1 must be an integer above ${next}`));
  });

  test(name('each extent recorded before coverage had intervals becomes one REST interval ending after its newest row'), async (t) => {
    const { options } = await freshDatabase(backend, t);
    const db = await openSqlDatabase(options);
    await migrate(db, MIGRATIONS.slice(0, 1));
    await db.query(`INSERT INTO dccd_coverage VALUES ('binance/ohlc-1m/BTC-USDT', 'binance', 'BTC/USDT', 'ohlc-1m', $1, $2, 2, now())`, [T0, T0 + MINUTE]);
    await db.close();
    const store = await openStore(options, t);
    assert.deepEqual(await store.coverage(BTC_1M), { rest: [{ startNs: T0, endNs: T0 + MINUTE + 1n }] });
    assert.deepEqual(withoutTime((await store.get(BTC_1M))!), { datasetId: 'binance/ohlc-1m/BTC-USDT', exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc-1m', minTs: T0, maxTs: T0 + MINUTE, rows: 2 });
  });

  test(name('coverage merges what overlaps or touches, per source, and keeps the gaps between'), async (t) => {
    const store = await freshStore(backend, t);
    const at = (a: number, b: number) => ({ startNs: T0 + BigInt(a) * MINUTE, endNs: T0 + BigInt(b) * MINUTE });
    assert.deepEqual(await store.coverage(BTC_1M), {});
    for (const w of [at(0, 10), at(20, 30), at(10, 12), at(25, 40), at(50, 60)]) await store.cover(BTC_1M, 'rest', w);
    await store.cover(BTC_1M, 'ws', at(11, 21));
    await store.cover(ETH_TRADES, 'rest', at(0, 1));
    assert.deepEqual(await store.coverage(BTC_1M), { rest: [at(0, 12), at(20, 40), at(50, 60)], ws: [at(11, 21)] });
    await store.cover(BTC_1M, 'rest', at(5, 55));
    assert.deepEqual(await store.coverage(BTC_1M), { rest: [at(0, 60)], ws: [at(11, 21)] });
    const all = await store.coverageOfAll();
    assert.deepEqual([...all.keys()], ['binance/ohlc-1m/BTC-USDT', 'binance/trades/ETH-USDT']);
    assert.deepEqual(all.get('binance/trades/ETH-USDT'), { rest: [at(0, 1)] });
  });

  test(name('40 concurrent covers of interleaved windows end as their exact union, disjoint'), async (t) => {
    const store = await freshStore(backend, t);
    // Windows [2i, 2i+1) for i < 20 and then [2i+1, 2i+2) for i < 19: together one interval [0, 39).
    const windows = [...Array.from({ length: 20 }, (_, i) => [2 * i, 2 * i + 1]), ...Array.from({ length: 19 }, (_, i) => [2 * i + 1, 2 * i + 2]), [0, 3]];
    await Promise.all(windows.map(([a, b]) => store.cover(BTC_1M, 'rest', { startNs: T0 + BigInt(a!) * MINUTE, endNs: T0 + BigInt(b!) * MINUTE })));
    assert.deepEqual(await store.coverage(BTC_1M), { rest: [{ startNs: T0, endNs: T0 + 39n * MINUTE }] });
  });

  test(name('a bad interval or source is refused naming the field, and nothing is recorded'), async (t) => {
    const store = await freshStore(backend, t);
    const cases: Array<[string, Promise<void>]> = [
      ['endNs', store.cover(BTC_1M, 'rest', { startNs: T0, endNs: T0 })],
      ['endNs', store.cover(BTC_1M, 'rest', { startNs: T0, endNs: 2n ** 63n })],
      ['startNs', store.cover(BTC_1M, 'rest', { startNs: 1 as unknown as bigint, endNs: T0 })],
      ['source', store.cover(BTC_1M, 'ftp' as 'rest', { startNs: T0, endNs: T0 + 1n })],
      ['span', store.cover({ ...BTC_1M, span: undefined }, 'rest', { startNs: T0, endNs: T0 + 1n })],
    ];
    for (const [field, p] of cases) await assert.rejects(p, (e: unknown) => e instanceof ValidationError && e.field === field);
    assert.deepEqual([...(await store.coverageOfAll()).keys()], []);
  });

  test(name('a failing migration leaves the schema as it was'), async (t) => {
    const db = await openSql((await freshDatabase(backend, t)).options, t);
    const created: Migration = { version: next, name: 'test_created', sql: 'CREATE TABLE dccd_test_created (id int)' };
    const broken: Migration = { version: next + 1, name: 'test_broken', sql: 'ALTER TABLE dccd_no_such_table ADD COLUMN x int' };
    await assert.rejects(migrate(db, [...MIGRATIONS, created, broken]), /dccd_no_such_table/);
    const tables = await db.query<{ name: string | null }>(
      `SELECT to_regclass('dccd_schema_migrations')::text AS name UNION ALL SELECT to_regclass('dccd_test_created')::text`,
    );
    assert.deepEqual(tables, [{ name: null }, { name: null }]);
    assert.deepEqual(await migrate(db, [...MIGRATIONS, created]), [...versions, next]);
  });

  test(name('openers migrating at the same time apply each migration once'), async (t) => {
    const { options } = await freshDatabase(backend, t);
    const first = await openSql(options, t);
    // A real Postgres takes several processes at once; embedded Postgres, concurrent calls of one.
    const others = backend.shared ? await Promise.all([1, 2, 3].map(() => openSql(options, t))) : [first, first, first];
    const applied = await Promise.all([first, ...others].map((db) => migrate(db)));
    assert.deepEqual(applied.flat(), versions);
    assert.deepEqual(await first.query('SELECT version FROM dccd_schema_migrations ORDER BY version'), versions.map((version) => ({ version })));
  });

  test(name('a re-opened store keeps its extents and applies no migration again'), async (t) => {
    const { options } = await freshDatabase(backend, t);
    const store = await openStore(options, t);
    const recorded = await store.record(BTC_1M, { minTs: T0, maxTs: T0 + MINUTE, rows: 2 });
    await store.close();
    const reopened = await openStore(options, t);
    assert.deepEqual(await reopened.get(BTC_1M), recorded);
    await reopened.close();
    const db = await openSql(options, t);
    assert.deepEqual(await db.query('SELECT version FROM dccd_schema_migrations ORDER BY version'), versions.map((version) => ({ version })));
    assert.deepEqual(await migrate(db), []);
  });
}

test('a database URL that is not a postgres:// URL is refused naming databaseUrl', async () => {
  for (const databaseUrl of ['not a url', 'mysql://u:p@127.0.0.1/dccd']) {
    await assert.rejects(openCoverageStore({ databaseUrl, dataPath: '/nonexistent' }), (e: unknown) => {
      assert.ok(e instanceof ValidationError, String(e));
      assert.equal(e.field, 'databaseUrl');
      return true;
    });
  }
});

// ---- embedded Postgres: one process at a time ----------------------------------------------

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STORE_MODULE = new URL('../../src/storage/coverage-store.ts', import.meta.url).href;
const CHILD_TARGET: Target = ETH_TRADES;

// Opens the store under DATA_PATH, records [1, its own pid] for ETH/USDT trades and closes
// it, or holds it open when HOLD is set. Prints what happens, one line per event.
const CHILD_SCRIPT = `
const { openCoverageStore } = await import(process.env.STORE_MODULE);
try {
  const store = await openCoverageStore({
    dataPath: process.env.DATA_PATH,
    waitForLockMs: Number(process.env.WAIT_MS),
    onWait: (m) => console.log('waiting: ' + m),
  });
  await store.record(${JSON.stringify(CHILD_TARGET)}, { minTs: 1n, maxTs: BigInt(process.pid), rows: 1 });
  console.log('recorded');
  if (process.env.HOLD) setInterval(() => {}, 60_000);
  else await store.close();
} catch (e) {
  console.log('failed: ' + e.message);
  process.exitCode = 1;
}`;

interface StoreProcess {
  pid: number;
  /** Resolves with the first output line matching `re`; rejects if the process ends first. */
  line(re: RegExp): Promise<string>;
  exited: Promise<{ code: number | null; output: string }>;
  kill(): void;
}

function spawnStoreProcess(t: TestContext, env: { DATA_PATH: string; WAIT_MS: number; HOLD?: boolean }): StoreProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD_SCRIPT], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, STORE_MODULE, DATA_PATH: env.DATA_PATH, WAIT_MS: String(env.WAIT_MS), HOLD: env.HOLD ? '1' : '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; output: string }>((resolve) => child.once('close', (code) => resolve({ code, output })));
  defer(t, async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return {
    pid: child.pid!,
    exited,
    kill: () => child.kill('SIGKILL'),
    line: (re) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = output.split('\n').find((l) => re.test(l));
          if (found !== undefined) {
            child.stdout.off('data', check);
            resolve(found);
          }
        };
        child.stdout.on('data', check);
        void exited.then(() => reject(new Error(`process ended before printing ${re}; output:\n${output}`)));
        check();
      }),
  };
}

const pglite = testBackends().find((b) => b.name === 'pglite')!;

test('a second process waits for the embedded database, then fails naming the owner and DATABASE_URL', { timeout: 60_000 }, async (t) => {
  const { options } = await freshDatabase(pglite, t);
  const store = await openStore(options, t);
  const { dir, lockPath } = embeddedDatabasePaths(options.dataPath);
  const child = spawnStoreProcess(t, { DATA_PATH: options.dataPath, WAIT_MS: 1500 });
  const { code, output } = await child.exited;
  assert.equal(code, 1, output);
  assert.deepEqual(output.trim().split('\n'), [
    `waiting: the embedded database in ${dir} is in use by dccd process ${process.pid}; waiting up to 1.5s ` +
      '(set DATABASE_URL to share a Postgres between processes)',
    `failed: the embedded database in ${dir} is in use by dccd process ${process.pid}: stop that process, ` +
      `or set DATABASE_URL to share a Postgres between processes (if no process ${process.pid} is running, delete ${lockPath})`,
  ]);
  assert.equal(await readFile(lockPath, 'utf8'), `${process.pid}\n`);
  assert.equal((await store.record(BTC_1M, { minTs: 1n, maxTs: 2n, rows: 1 })).rows, 1);
});

test('a waiting process opens the embedded database once its owner closes it', { timeout: 60_000 }, async (t) => {
  const { options } = await freshDatabase(pglite, t);
  const store = await openStore(options, t);
  const child = spawnStoreProcess(t, { DATA_PATH: options.dataPath, WAIT_MS: 50_000 });
  await child.line(/^waiting: /);
  await store.close();
  const { code, output } = await child.exited;
  assert.equal(code, 0, output);
  const reopened = await openStore(options, t);
  assert.equal((await reopened.get(CHILD_TARGET))?.maxTs, BigInt(child.pid));
});

test('the lock of a crashed owner is taken over and what it recorded is kept', { timeout: 60_000 }, async (t) => {
  const { options } = await freshDatabase(pglite, t);
  const child = spawnStoreProcess(t, { DATA_PATH: options.dataPath, WAIT_MS: 0, HOLD: true });
  await child.line(/^recorded$/);
  child.kill();
  await child.exited;
  const { lockPath } = embeddedDatabasePaths(options.dataPath);
  assert.equal(await readFile(lockPath, 'utf8'), `${child.pid}\n`, 'the crashed owner left its lock');
  const store = await openStore(options, t);
  assert.equal(await readFile(lockPath, 'utf8'), `${process.pid}\n`);
  assert.equal((await store.get(CHILD_TARGET))?.maxTs, BigInt(child.pid));
});

test('a lock naming a dead pid, or this process without its holding it (a reused pid), is stale', async (t) => {
  const { options } = await freshDatabase(pglite, t);
  const { lockPath } = embeddedDatabasePaths(options.dataPath);
  const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
  for (const stale of [`${deadPid}\n`, `${process.pid}\n`, 'not a pid']) {
    await writeFile(lockPath, stale);
    const store = await openStore(options, t);
    assert.equal(await readFile(lockPath, 'utf8'), `${process.pid}\n`);
    await store.close();
  }
});

test('close releases the embedded database, which this process cannot open twice meanwhile', async (t) => {
  const { dataPath, remove } = await tempDataPath(); // an empty folder: the first open runs initdb
  defer(t, remove);
  const { lockPath } = embeddedDatabasePaths(dataPath);
  const store = await openStore({ dataPath }, t);
  await assert.rejects(openCoverageStore({ dataPath }), (e: unknown) => {
    assert.ok(e instanceof EmbeddedDatabaseBusy, String(e));
    assert.equal(e.ownerPid, process.pid);
    assert.equal(e.lockPath, lockPath);
    return true;
  });
  await store.record(BTC_1M, { minTs: 1n, maxTs: 2n, rows: 1 });
  await store.close();
  await assert.rejects(readFile(lockPath), { code: 'ENOENT' });
  const reopened = await openStore({ dataPath }, t);
  assert.equal((await reopened.get(BTC_1M))?.rows, 1);
});

test('a new embedded manifest is a copy of the prepared template with its tables: opening it applies no migration', async (t) => {
  const template = await pgliteTemplate(MANIFEST_SCHEMA);
  const { dataPath, remove } = await tempDataPath();
  defer(t, remove);
  const before = new Date();
  await (await openCoverageStore({ dataPath })).close();
  const db = await openSql({ dataPath }, t);
  const applied = await db.query<{ version: number; applied_at: Date }>('SELECT version, applied_at FROM dccd_schema_migrations ORDER BY version');
  assert.deepEqual(applied.map((m) => m.version), MIGRATIONS.map((m) => m.version));
  assert.ok(applied.every((m) => m.applied_at < before), `applied when ${template} was made, before the folder existed`);
});
