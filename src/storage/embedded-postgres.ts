// Embedded Postgres (PGlite: Postgres compiled to WASM, running inside this process),
// persisted under {data}/.dccd/pglite, so a lone `dccd start` needs no database server.
// PGlite serves one process and does nothing to keep a second one out of its folder, where
// two writers would corrupt it; a pid lock file next to the folder names its one owner.
import { cpSync, existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { PGlite, types } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';
import { DccdError } from '../domain/errors.ts';
import { prepareOnce, preparedPath, PROJECT_ROOT } from '../prepared-files.ts';
import { tryLock } from './pid-lock.ts';
import type { PidLock } from './pid-lock.ts';
import type { SqlDatabase, SqlSession } from './sql-database.ts';

const LOCK_POLL_MS = 200;

// V8 compiles PGlite's ~10 MB of WebAssembly twice, the second time (TurboFan) in the
// background for seconds of a core and ~50 MiB. The manifest's queries are few and small, so
// the baseline compiler's code is plenty: opening takes half the time and a third less memory.
// Set before the first module is compiled; dccd runs no other WebAssembly.
setFlagsFromString('--liftoff-only');

// Postgres's default 128 MB of shared buffers are touched at start-up: all resident memory.
// The manifest is kilobytes; 1 MB (128 pages) holds it and is ~8 MiB less resident than 8 MB.
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=1MB'];
const OPTIONS = {
  startParams: START_PARAMS,
  // PGlite's default int8 parser answers a number when the value fits one, else a bigint.
  parsers: { [types.INT8]: (text: string) => BigInt(text) },
};

/** A schema every new database of a caller starts with, applied once into its template. */
export interface TemplateSchema {
  /** Names what `apply` makes (e.g. its last migration), so a changed schema gets a template of its own. */
  version: string;
  apply(db: SqlDatabase): Promise<unknown>;
}

export interface EmbeddedPostgresOptions {
  /** A new database is a copy of the template made with this applied, not a bare one. */
  schema?: TemplateSchema;
  /** How long to wait for another process to close the database; 0 (the default) fails at once. */
  waitForLockMs?: number;
  /** Told once per owner when opening has to wait for it. */
  onWait?: (message: string) => void;
}

/** Another process (or this one) has the embedded database open. */
export class EmbeddedDatabaseBusy extends DccdError {
  override readonly type = 'EmbeddedDatabaseBusy';
  override readonly retryable = true;
  constructor(
    readonly dir: string,
    readonly ownerPid: number,
    readonly lockPath: string,
  ) {
    super(
      `the embedded database in ${dir} is in use by dccd process ${ownerPid}: stop that process, or set DATABASE_URL ` +
        `to share a Postgres between processes (if no process ${ownerPid} is running, delete ${lockPath})`,
    );
  }
}

export function embeddedDatabasePaths(dataPath: string): { dir: string; lockPath: string } {
  const state = join(dataPath, '.dccd');
  return { dir: join(state, 'pglite'), lockPath: join(state, 'pglite.lock') };
}

export async function openEmbeddedPostgres(dataPath: string, opts: EmbeddedPostgresOptions = {}): Promise<SqlDatabase> {
  const { dir, lockPath } = embeddedDatabasePaths(dataPath);
  await mkdir(join(dataPath, '.dccd'), { recursive: true }); // PGlite creates only the last level
  const lock = await acquire(dir, lockPath, opts);
  let db: PGlite;
  try {
    if (!existsSync(dir)) await fromTemplate(dir, opts.schema);
    db = await PGlite.create(dir, OPTIONS);
  } catch (e) {
    await lock.release();
    throw e;
  }
  return database(db, () => lock.release());
}

/** `db` as a SqlDatabase whose close() closes it, then does `after`. */
function database(db: PGlite, after: () => Promise<void>): SqlDatabase {
  return {
    ...session(db),
    transaction: (fn) => db.transaction((tx) => fn(session(tx))),
    async close() {
      try {
        await db.close();
      } finally {
        await after();
      }
    },
  };
}

/**
 * A new database is a copy of a prepared one: initdb inside PGlite takes ~5-10 s of CPU and
 * ~600 MiB, a copy a fraction of a second, and a template with the schema applied spares each
 * new folder its migrations too (~0.3 s of CPU at a first start). A template that cannot be
 * made (a read-only install) leaves PGlite to run initdb itself, and the caller to migrate.
 */
async function fromTemplate(dir: string, schema: TemplateSchema | undefined): Promise<void> {
  const template = await pgliteTemplate(schema).catch(() => undefined);
  // ~1000 files: copied synchronously in half the time (and half the main thread's) of fs/promises' cp.
  if (template) await prepareOnce(dir, async (tmp) => cpSync(template, tmp, { recursive: true }));
}

/** A freshly initialised (with `schema` applied), cleanly closed PGlite data folder; `npm run build` makes the one dccd uses. */
export async function pgliteTemplate(schema?: TemplateSchema): Promise<string> {
  const suffix = schema ? `-schema-${schema.version}` : '';
  const path = await preparedPath(`pglite-template${suffix}`, async () => {
    const pkg = JSON.parse(await readFile(join(PROJECT_ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8'));
    return `pglite-template-${pkg.version}${suffix}`;
  });
  return prepareOnce(path, async (tmp) => {
    const db = database(await PGlite.create(tmp, OPTIONS), async () => undefined);
    try {
      await schema?.apply(db);
    } finally {
      await db.close();
    }
  });
}

async function acquire(dir: string, lockPath: string, { waitForLockMs = 0, onWait }: EmbeddedPostgresOptions): Promise<PidLock> {
  const deadline = Date.now() + waitForLockMs;
  let toldOwner: number | undefined;
  for (;;) {
    const got = await tryLock(lockPath);
    if ('release' in got) return got;
    const left = deadline - Date.now();
    if (left <= 0) throw new EmbeddedDatabaseBusy(dir, got.ownerPid, lockPath);
    if (got.ownerPid !== toldOwner) {
      toldOwner = got.ownerPid;
      onWait?.(
        `the embedded database in ${dir} is in use by dccd process ${got.ownerPid}; waiting up to ${waitForLockMs / 1000}s ` +
          `(set DATABASE_URL to share a Postgres between processes)`,
      );
    }
    await sleep(Math.min(LOCK_POLL_MS, left));
  }
}

function session(q: PGlite | Transaction): SqlSession {
  return {
    async query<T>(sql: string, params: unknown[] = []) {
      return (await q.query<T>(sql, params)).rows;
    },
    async exec(sql) {
      await q.exec(sql);
    },
  };
}
