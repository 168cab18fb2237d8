// dccd's database schema as numbered migrations, each applied once, in order. The versions
// applied are rows of dccd_schema_migrations. Many workers may start at once against one
// Postgres: a transaction-level advisory lock lets one of them migrate while the others
// wait, and those then find nothing left to do.
import type { SqlDatabase } from './sql-database.ts';

export interface Migration {
  /** Positive, increasing through the list; never reused once released. */
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'coverage',
    // Per dataset, the extent downloaded so far; ts in int64 ns, as everywhere in dccd.
    sql: `
      CREATE TABLE dccd_coverage (
        dataset_id text PRIMARY KEY,
        exchange text NOT NULL,
        symbol text NOT NULL,
        kind text NOT NULL,
        min_ts bigint NOT NULL,
        max_ts bigint NOT NULL,
        row_count bigint NOT NULL CHECK (row_count >= 0),
        updated_at timestamptz NOT NULL,
        CHECK (min_ts <= max_ts)
      )`,
  },
  {
    version: 2,
    name: 'coverage intervals',
    // Coverage as a set of half-open intervals per dataset and source ('rest', 'ws'), disjoint
    // within a (dataset, source). Each extent recorded so far becomes one REST interval ending
    // just after its newest row, which is what start=last resumed from before.
    sql: `
      CREATE TABLE dccd_coverage_intervals (
        dataset_id text NOT NULL,
        source text NOT NULL,
        start_ns bigint NOT NULL,
        end_ns bigint NOT NULL,
        PRIMARY KEY (dataset_id, source, start_ns),
        CHECK (start_ns < end_ns)
      );
      INSERT INTO dccd_coverage_intervals (dataset_id, source, start_ns, end_ns)
        SELECT dataset_id, 'rest', min_ts, max_ts + 1 FROM dccd_coverage WHERE max_ts < 9223372036854775807`,
  },
];

/** Any constant of our own works: advisory lock keys are ours to choose ('dccd' in ASCII). */
const MIGRATION_LOCK_KEY = 0x64636364n;

/**
 * Applies the migrations not yet recorded, in version order, in one transaction (Postgres
 * DDL is transactional: the schema moves to the new version entirely or not at all).
 * Returns the versions it applied.
 */
export async function migrate(db: SqlDatabase, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  checkOrder(migrations);
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.exec(`
      CREATE TABLE IF NOT EXISTS dccd_schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const done = new Set((await tx.query<{ version: number }>('SELECT version FROM dccd_schema_migrations')).map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO dccd_schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}

function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    const previous = i === 0 ? 0 : migrations[i - 1]!.version;
    if (!Number.isInteger(m.version) || m.version <= previous) {
      throw new Error(`migration '${m.name}': version ${m.version} must be an integer above ${previous}`);
    }
  });
}
