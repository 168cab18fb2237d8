// Databases for tests: embedded Postgres (PGlite) always, and a real PostgreSQL when
// DCCD_TEST_DATABASE_URL names one (CI starts PostgreSQL 15 and sets it). Each fresh()
// is an empty database of its own, so tests do not depend on each other's order: a new
// data folder for PGlite, a new schema (reached through the URL's search_path) for Postgres.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { embeddedDatabasePaths } from '../../src/storage/embedded-postgres.ts';

/** postgres://dccd:dccd@127.0.0.1:5432/dccd in CI; undefined when no real Postgres is offered. */
export function testDatabaseUrl(): string | undefined {
  return process.env.DCCD_TEST_DATABASE_URL || undefined;
}

export interface FreshDatabase {
  /** What openCoverageStore and openSqlDatabase take to reach it. */
  options: { databaseUrl?: string; dataPath: string };
  dispose(): Promise<void>;
}

export interface TestBackend {
  name: 'pglite' | 'postgres';
  /** Whether several processes (or pools) may have it open at once. */
  shared: boolean;
  fresh(): Promise<FreshDatabase>;
}

export function testBackends(): TestBackend[] {
  const url = testDatabaseUrl();
  return [{ name: 'pglite', shared: false, fresh: freshEmbedded }, ...(url ? [postgresBackend(url)] : [])];
}

/** An empty temp folder to use as dccd's data path; removed by the returned function. */
export async function tempDataPath(): Promise<{ dataPath: string; remove(): Promise<void> }> {
  const dataPath = await mkdtemp(join(tmpdir(), 'dccd-coverage-'));
  return { dataPath, remove: () => rm(dataPath, { recursive: true, force: true }) };
}

// initdb takes PGlite seconds; it runs once per test process, and each fresh database is a
// copy of that freshly initialised (and cleanly closed) folder.
let template: Promise<string> | undefined;

function initialisedTemplate(): Promise<string> {
  return (template ??= (async () => {
    const { dataPath } = await tempDataPath();
    process.once('exit', () => rmSync(dataPath, { recursive: true, force: true }));
    const dir = join(dataPath, 'pglite');
    await (await PGlite.create(dir)).close();
    return dir;
  })());
}

/** Puts an initialised, empty embedded database under `dataPath` (a copy: no initdb). */
export async function seedEmbeddedDatabase(dataPath: string): Promise<void> {
  await cp(await initialisedTemplate(), embeddedDatabasePaths(dataPath).dir, { recursive: true });
}

async function freshEmbedded(): Promise<FreshDatabase> {
  const { dataPath, remove } = await tempDataPath();
  await seedEmbeddedDatabase(dataPath);
  return { options: { dataPath }, dispose: remove };
}

/** A new empty schema in the Postgres at `url`, and the URL that reaches it. */
export async function freshSchema(url: string): Promise<{ databaseUrl: string; drop(): Promise<void> }> {
  const schema = `dccd_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(url, `CREATE SCHEMA ${schema}`);
  const databaseUrl = new URL(url);
  databaseUrl.searchParams.set('options', `-c search_path=${schema}`);
  return { databaseUrl: databaseUrl.href, drop: () => adminQuery(url, `DROP SCHEMA ${schema} CASCADE`) };
}

function postgresBackend(url: string): TestBackend {
  return {
    name: 'postgres',
    shared: true,
    async fresh() {
      const { databaseUrl, drop } = await freshSchema(url);
      const { dataPath, remove } = await tempDataPath();
      return {
        options: { databaseUrl, dataPath },
        async dispose() {
          await drop();
          await remove();
        },
      };
    },
  };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
