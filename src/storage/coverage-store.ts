// The coverage manifest: per dataset, the extent dccd has downloaded (earliest and latest
// ts, rows). It only ever widens, so `start=last` can resume from it even after the local
// files were deleted or purged. Postgres when a database URL is given (shared by every
// worker), else embedded Postgres under {data}/.dccd/pglite (one process).
import { ValidationError } from '../domain/errors.ts';
import type { Target } from '../domain/target.ts';
import { checkTarget, datasetId, datasetKind } from '../domain/target.ts';
import { migrate } from './migrations.ts';
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

export interface CoverageStore {
  /** Widens the dataset's recorded extent (creates it on first call). Atomic under concurrent callers (one SQL upsert with LEAST/GREATEST). */
  record(target: Target, extent: { minTs: bigint; maxTs: bigint; rows: number }): Promise<DatasetExtent>;
  get(target: Target): Promise<DatasetExtent | null>;
  /** Every dataset, ordered by id. */
  list(): Promise<DatasetExtent[]>;
  close(): Promise<void>;
}

export type CoverageStoreOptions = SqlDatabaseOptions;

/**
 * Postgres through `pg` when databaseUrl is given; otherwise embedded Postgres (PGlite)
 * persisted under {dataPath}/.dccd/pglite, which one process at a time may open (see
 * EmbeddedDatabaseBusy). Runs pending migrations. To keep the tables in a schema of their
 * own, name it in the URL: `?options=-c%20search_path%3Dmyschema`.
 */
export async function openCoverageStore(opts: CoverageStoreOptions): Promise<CoverageStore> {
  const db = await openSqlDatabase(opts);
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
