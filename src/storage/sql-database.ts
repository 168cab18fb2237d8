// The little of a SQL database the stores need, met by a real Postgres (through `pg`) and
// by embedded Postgres (PGlite) alike. Both return int8 columns as bigint, exactly.
import { ValidationError } from '../domain/errors.ts';
import type { EmbeddedPostgresOptions } from './embedded-postgres.ts';

export interface SqlSession {
  /** One statement with $1.. parameters; bigint parameters are sent exactly. */
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Statements separated by semicolons, without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface SqlDatabase extends SqlSession {
  /** Runs `fn` in one transaction on one connection: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface SqlDatabaseOptions extends EmbeddedPostgresOptions {
  /** postgres://user:password@host:5432/db; without it, embedded Postgres under `dataPath`. */
  databaseUrl?: string;
  dataPath: string;
}

// Each driver is loaded by the process that opens it: PGlite alone is ~10 MB of WebAssembly.
export async function openSqlDatabase(opts: SqlDatabaseOptions): Promise<SqlDatabase> {
  if (opts.databaseUrl === undefined) return (await import('./embedded-postgres.ts')).openEmbeddedPostgres(opts.dataPath, opts);
  checkDatabaseUrl(opts.databaseUrl);
  return (await import('./postgres-database.ts')).connectPostgres(opts.databaseUrl);
}

function checkDatabaseUrl(url: string): void {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new ValidationError('databaseUrl', 'is not a URL such as postgres://user:password@host:5432/dccd');
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    throw new ValidationError('databaseUrl', `scheme '${protocol}' is not postgres: or postgresql:`);
  }
}
