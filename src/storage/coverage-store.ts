// The coverage manifest: per dataset, the extent dccd has downloaded (earliest and latest
// ts, rows), and what it covers as a set of intervals per source — the spans whose rows were
// fetched whole, including spans where the venue had none. Both only ever grow, so
// `start=last` resumes after the last covered instant even after the local files were
// deleted or purged, and the gaps between intervals are the dataset's holes. Postgres when a database URL is given (shared by every
// worker), else embedded Postgres under {data}/.dccd/pglite (one process).
import { ValidationError } from '../domain/errors.ts';
import type { Interval } from '../domain/intervals.ts';
import type { Target } from '../domain/target.ts';
import { checkTarget, datasetId, datasetKind } from '../domain/target.ts';
import type { TemplateSchema } from './embedded-postgres.ts';
import { migrate, MIGRATIONS } from './migrations.ts';
import { openSqlDatabase } from './sql-database.ts';
import type { SqlDatabase, SqlDatabaseOptions } from './sql-database.ts';

export interface DatasetExtent {
  /** 'binance/ohlc-1m/BTC-USDT' (datasetId of the target). */
  datasetId: string;
  exchange: string;
  /** Unified form, 'BTC/USDT'. */
  symbol: string;
  /** Dataset kind, 'ohlc-1m', 'trades', 'book'. */
  kind: string;
  /** ns, as reported by the writers. */
  minTs: bigint;
  maxTs: bigint;
  rows: number;
  updatedAt: Date;
}

/** Where covered rows came from: REST history, or a live stream. */
export type CoverageSource = 'rest' | 'ws';
export const COVERAGE_SOURCES: readonly CoverageSource[] = ['rest', 'ws'];

/** Per source, sorted disjoint intervals (touching ones merged). */
export type Coverage = Partial<Record<CoverageSource, Interval[]>>;

export interface CoverageStore {
  /** Widens the dataset's recorded extent (creates it on first call). Atomic under concurrent callers (one SQL upsert with LEAST/GREATEST). */
  record(target: Target, extent: { minTs: bigint; maxTs: bigint; rows: number }): Promise<DatasetExtent>;
  get(target: Target): Promise<DatasetExtent | null>;
  /** Adds [startNs, endNs) to what `source` covers, merging with what it overlaps or touches. */
  cover(target: Target, source: CoverageSource, w: Interval): Promise<void>;
  /** What the dataset's sources cover; {} when nothing was recorded. */
  coverage(target: Target): Promise<Coverage>;
  /** Coverage of every dataset with any, by dataset id. */
  coverageOfAll(): Promise<Map<string, Coverage>>;
  /** Every dataset, ordered by id. */
  list(): Promise<DatasetExtent[]>;
  close(): Promise<void>;
}

export type CoverageStoreOptions = Omit<SqlDatabaseOptions, 'schema'>;

/** The manifest's tables, which a new embedded database is copied with (`npm run build` prepares it). */
export const MANIFEST_SCHEMA: TemplateSchema = { version: String(MIGRATIONS.at(-1)!.version), apply: (db) => migrate(db) };

/**
 * Postgres through `pg` when databaseUrl is given; otherwise embedded Postgres (PGlite)
 * persisted under {dataPath}/.dccd/pglite, which one process at a time may open (see
 * EmbeddedDatabaseBusy). Runs pending migrations. To keep the tables in a schema of their
 * own, name it in the URL: `?options=-c%20search_path%3Dmyschema`.
 */
export async function openCoverageStore(opts: CoverageStoreOptions): Promise<CoverageStore> {
  const db = await openSqlDatabase({ ...opts, schema: MANIFEST_SCHEMA });
  try {
    await migrate(db);
  } catch (e) {
    await db.close();
    throw e;
  }
  return new SqlCoverageStore(db);
}

interface ExtentRow {
  dataset_id: string;
  exchange: string;
  symbol: string;
  kind: string;
  min_ts: bigint;
  max_ts: bigint;
  row_count: bigint;
  updated_at: Date;
}

const SELECT = 'dataset_id, exchange, symbol, kind, min_ts, max_ts, row_count, updated_at';

// One statement, so concurrent writers need no lock of ours: Postgres serialises upserts
// of one key, and each one widens whatever the previous left.
const RECORD_SQL = `
  INSERT INTO dccd_coverage AS c (dataset_id, exchange, symbol, kind, min_ts, max_ts, row_count, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, now())
  ON CONFLICT (dataset_id) DO UPDATE SET
    min_ts = LEAST(c.min_ts, EXCLUDED.min_ts),
    max_ts = GREATEST(c.max_ts, EXCLUDED.max_ts),
    row_count = GREATEST(c.row_count, EXCLUDED.row_count),
    updated_at = now()
  RETURNING ${SELECT}`;

// Deletes the intervals the new one overlaps or touches and inserts their union. The caller
// holds the dataset's advisory lock: without it, two writers could each merge with a
// snapshot missing the other's interval and leave overlapping rows behind.
const COVER_SQL = `
  WITH touched AS (
    DELETE FROM dccd_coverage_intervals
    WHERE dataset_id = $1 AND source = $2 AND start_ns <= $4 AND end_ns >= $3
    RETURNING start_ns, end_ns)
  INSERT INTO dccd_coverage_intervals (dataset_id, source, start_ns, end_ns)
    SELECT $1, $2, LEAST($3::bigint, min(start_ns)), GREATEST($4::bigint, max(end_ns)) FROM touched`;

interface IntervalRow {
  dataset_id: string;
  source: CoverageSource;
  start_ns: bigint;
  end_ns: bigint;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

class SqlCoverageStore implements CoverageStore {
  readonly #db: SqlDatabase;
  #closing: Promise<void> | undefined;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  async record(target: Target, extent: { minTs: bigint; maxTs: bigint; rows: number }): Promise<DatasetExtent> {
    const t = checkTarget(target);
    const id = datasetId(t);
    checkExtent(extent);
    const [row] = await this.#db.query<ExtentRow>(RECORD_SQL, [
      id,
      t.exchange,
      t.symbol,
      datasetKind(t),
      extent.minTs,
      extent.maxTs,
      extent.rows,
    ]);
    return toExtent(row!);
  }

  async get(target: Target): Promise<DatasetExtent | null> {
    const [row] = await this.#db.query<ExtentRow>(`SELECT ${SELECT} FROM dccd_coverage WHERE dataset_id = $1`, [datasetId(checkTarget(target))]);
    return row ? toExtent(row) : null;
  }

  async cover(target: Target, source: CoverageSource, w: Interval): Promise<void> {
    const id = datasetId(checkTarget(target));
    if (!COVERAGE_SOURCES.includes(source)) throw new ValidationError('source', `'${source}' is not one of ${COVERAGE_SOURCES.join(', ')}`);
    checkInterval(w);
    await this.#db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [id]);
      await tx.query(COVER_SQL, [id, source, w.startNs, w.endNs]);
    });
  }

  async coverage(target: Target): Promise<Coverage> {
    const rows = await this.#db.query<IntervalRow>(
      'SELECT dataset_id, source, start_ns, end_ns FROM dccd_coverage_intervals WHERE dataset_id = $1 ORDER BY source, start_ns',
      [datasetId(checkTarget(target))],
    );
    return this.#grouped(rows).get(datasetId(target)) ?? {};
  }

  async coverageOfAll(): Promise<Map<string, Coverage>> {
    return this.#grouped(await this.#db.query<IntervalRow>('SELECT dataset_id, source, start_ns, end_ns FROM dccd_coverage_intervals ORDER BY dataset_id, source, start_ns'));
  }

  #grouped(rows: IntervalRow[]): Map<string, Coverage> {
    const out = new Map<string, Coverage>();
    for (const r of rows) {
      const c = out.get(r.dataset_id) ?? {};
      (c[r.source] ??= []).push({ startNs: BigInt(r.start_ns), endNs: BigInt(r.end_ns) });
      out.set(r.dataset_id, c);
    }
    return out;
  }

  async list(): Promise<DatasetExtent[]> {
    return (await this.#db.query<ExtentRow>(`SELECT ${SELECT} FROM dccd_coverage ORDER BY dataset_id`)).map(toExtent);
  }

  close(): Promise<void> {
    return (this.#closing ??= this.#db.close());
  }
}

function checkExtent({ minTs, maxTs, rows }: { minTs: bigint; maxTs: bigint; rows: number }): void {
  for (const [field, v] of [['minTs', minTs], ['maxTs', maxTs]] as const) {
    if (typeof v !== 'bigint') throw new ValidationError(field, `must be a bigint of ns, got ${typeof v}`);
    if (v < INT64_MIN || v > INT64_MAX) throw new ValidationError(field, `${v} is outside the int64 range`);
  }
  if (minTs > maxTs) throw new ValidationError('minTs', `${minTs} is after maxTs ${maxTs}`);
  if (!Number.isSafeInteger(rows) || rows < 0) throw new ValidationError('rows', `must be a non-negative integer, got ${rows}`);
}

function checkInterval({ startNs, endNs }: Interval): void {
  for (const [field, v] of [['startNs', startNs], ['endNs', endNs]] as const) {
    if (typeof v !== 'bigint') throw new ValidationError(field, `must be a bigint of ns, got ${typeof v}`);
    if (v < INT64_MIN || v > INT64_MAX) throw new ValidationError(field, `${v} is outside the int64 range`);
  }
  if (startNs >= endNs) throw new ValidationError('endNs', `${endNs} is not after startNs ${startNs}`);
}

function toExtent(r: ExtentRow): DatasetExtent {
  return {
    datasetId: r.dataset_id,
    exchange: r.exchange,
    symbol: r.symbol,
    kind: r.kind,
    minTs: r.min_ts,
    maxTs: r.max_ts,
    rows: Number(r.row_count),
    updatedAt: r.updated_at,
  };
}
