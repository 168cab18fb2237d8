// Datasets on disk as Hive-style Parquet (layout in parquet-layout.ts), written and read
// through DuckDB. ts is stored as TIMESTAMP(NANOS) without the UTC-adjusted flag (DuckDB
// TIMESTAMP_NS): DuckDB 1.5 reads flagged nanosecond columns as microseconds
// (research/parquet-bench.md), so "UTC" is recorded in each file's key-value metadata instead.
import { open, rename, rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { basename, dirname, join } from 'node:path';
import { DuckDBDataChunk, DuckDBVector, quotedIdentifier, quotedString } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import type * as arrow from 'apache-arrow';
import { ValidationError } from '../domain/errors.ts';
import type { BookRow, RowsByKind } from '../domain/records.ts';
import type { Kind, Target } from '../domain/target.ts';
import { checkTarget, parseDatasetKind } from '../domain/target.ts';
import { isoFromNs, nowNs } from '../domain/time.ts';
import { collectBatch, toArrowTable, toRows } from './column-batch.ts';
import type { ColumnBatch } from './column-batch.ts';
import { batchOf } from './column-buffer.ts';
import { VANISHED_FILE, findTempFiles, listDatasetDirs, listPartitions, listParts, listPartsIn } from './dataset-files.ts';
import type { DatasetDir } from './dataset-files.ts';
import { FooterCache } from './part-footers.ts';
import type { PartSummary } from './part-footers.ts';
import type { PartFile } from './dataset-files.ts';
import { DuckDBEngine } from './duckdb.ts';
import { fileExists, makeDirs, removeEmptyDirs, syncDir, syncFile } from './durable-files.ts';
import { KeyedLock } from './keyed-lock.ts';
import { ensureLayout, migrateLayout } from './layout-migration.ts';
import type { MovedDataset } from './layout-migration.ts';
import {
  ORDER_BY,
  checkBatch,
  createLoadTableSql,
  dedupKeySql,
  emptySourceSql,
  fileColumnsSql,
  fileSelectSql,
  fillVector,
  isSortedUnique,
  loadTsWithin,
  loadTypes,
  readSelectSql,
  tsBetween,
  tsValues,
  tsWithin,
} from './parquet-columns.ts';
import type { PartSource, StreamFlush, Window } from './parquet-layout.ts';
import {
  SESSION_TOKEN,
  contains,
  datasetDir,
  intersect,
  partFileName,
  partitionGrain,
  partitionsCovering,
  rowWindows,
  streamPartFileName,
  tempFileName,
  tempFileWriter,
} from './parquet-layout.ts';
import { hasOverlap, overlapGroups, streamOrder, visibleWindows } from './part-precedence.ts';
import { SLICE_BYTES, sliceCuts } from './read-slices.ts';
import { guardStorage } from './storage-failure.ts';
import { isAlive } from '../process-alive.ts';

export interface Provenance {
  /** Where the rows came from, e.g. 'binance:rest'. */
  source: string;
  /** Version of the code that made them, e.g. 'binance-rest/1'. */
  adapterVersion: string;
}

/** Version of the file layout and footer keys; bump when either changes meaning. */
export const SCHEMA_VERSION = '1';

const KV = {
  provenance: 'dccd.provenance',
  timezone: 'dccd.timezone',
  range: 'dccd.range',
  schema: 'dccd.schema',
  /** Write stamp, ns: orders overlapping parts (part-precedence.ts). */
  writtenNs: 'dccd.written_ns',
  /** 'rest' or 'ws'; a part without it is a REST part (written before streams existed). */
  source: 'dccd.source',
  /** Stream parts: the flush that wrote them, and the write stamp of their session's first flush. */
  session: 'dccd.session',
  seq: 'dccd.seq',
  sessionNs: 'dccd.session_ns',
} as const;

// v2 pages let DuckDB pick DELTA_BINARY_PACKED for ts and sequential ids (8.2 B/row for
// trades against 9.6 with v1: research/parquet-bench.md); 10^5-row groups keep range reads
// pruning at a fine grain.
const COPY_OPTIONS = 'FORMAT parquet, COMPRESSION zstd, PARQUET_VERSION v2, ROW_GROUP_SIZE 100000';

/** Temp files younger than this may belong to a write still running in another process. */
const TEMP_MIN_AGE_MS = 60_000;
/** A reader lists parts, then opens them; a concurrent write may delete one in between. */
const READ_ATTEMPTS = 3;
const ALL_TIME: Window = { startNs: -(2n ** 63n), endNs: 2n ** 63n - 1n };
/**
 * A REST book snapshot is stamped when it was received, after the venue's state it holds; a
 * streamed diff up to this long before that stamp may still come after it in seq.
 */
const SNAPSHOT_LAG_NS = 60n * 1_000_000_000n;
/** Rows per batch a streamed read yields at most: its memory, whatever the range. */
export const READ_BATCH_ROWS = 1 << 16;

export interface StreamOptions {
  /** Ends the read: a statement running for it is interrupted. */
  signal?: AbortSignal;
  /** At most this many rows per batch (READ_BATCH_ROWS). */
  batchRows?: number;
  /** Parquet bytes per query (read-slices.ts); tests lower it to get many slices. */
  sliceBytes?: number;
}

let lastStamp = 0n;
/** Strictly increasing within the process, so two writes never share a rank. */
function nextWriteStamp(): bigint {
  const now = nowNs();
  lastStamp = now > lastStamp ? now : lastStamp + 1n;
  return lastStamp;
}

export class ParquetStore {
  readonly #engine: DuckDBEngine;
  readonly #locks = new KeyedLock();
  /** Temp files this store is writing right now; cleanTemp leaves them alone. */
  readonly #inFlight = new Set<string>();
  #footers: FooterCache | undefined;
  /** Settles once the data folder is in the current layout (layout-migration.ts). */
  #layout: Promise<void> | undefined;
  /** Write stamp of each stream session's first flush through this store: orders sessions. */
  readonly #sessionStamps = new Map<string, bigint>();

  constructor(readonly dataPath: string) {
    // An in-memory database spills to ./.tmp of the working directory by default.
    this.#engine = new DuckDBEngine({ temp_directory: join(dataPath, '.dccd', 'duckdb-tmp'), memory_limit: '128MB', threads: '2' });
  }

  datasetPath(target: Target): string {
    return datasetDir(this.dataPath, target);
  }

  /** Moves datasets still in the first layout into the current one; returns what it moved. */
  async migrateLayout(): Promise<MovedDataset[]> {
    const moved = await migrateLayout(this.dataPath, (paths) => this.#stampsOf(paths));
    this.#layout = Promise.resolve();
    return moved;
  }

  /**
   * Writes REST rows that cover exactly [startNs, endNs): afterwards the dataset's REST rows
   * in that range are exactly `rows`, whatever REST parts held there before; stream parts
   * (append) are left alone, and reads merge them in (a REST row winning on its key). A key
   * (ohlc ts, trades trade_id, book ts+side+level) repeated within `rows` keeps its last
   * occurrence. Files are cut at partition bounds and named after the window they cover, so
   * repeating a call replaces the same files. Each file is written under a temp name and
   * renamed into place; REST parts it supersedes are deleted, and REST parts partly
   * overlapping the range rewritten without it, only after that. Empty `rows` clears the
   * range of REST rows. `rows` are row objects or a batch of them (a ColumnBuffer's).
   * Returns the data files written.
   */
  async write<K extends Kind>(
    target: Target & { kind: K },
    rows: RowsByKind[K][] | ColumnBatch,
    range: { startNs: bigint; endNs: bigint },
    provenance: Provenance,
  ): Promise<{ rows: number; files: string[] }> {
    const t = checkTarget(target);
    const dir = this.datasetPath(t);
    checkRange(range);
    checkProvenance(provenance);
    const batch = batchToWrite(t.kind, rows);
    const bounds = checkBatch(t.kind, batch, range);
    const sorted = isSortedUnique[t.kind](batch);
    await this.#ready();
    return this.#locks.run(dir, () =>
      this.#engine.use((conn) =>
        guardStorage(dir, async () => {
          const existing = (await listParts(dir, range)).filter((p) => !p.stream);
          const stamp = nextWriteStamp();
          const kv = (w: Window) => footer(w, provenanceJson(provenance, stamp), stamp, 'rest');
          const pieces = bounds
            ? partitionsCovering(partitionGrain(t), { startNs: bounds.minTs, endNs: bounds.maxTs + 1n }).map((p) => {
                const window = intersect(p, range)!;
                return { path: join(dir, p.name, partFileName(window)), window };
              })
            : [];
          const written = await this.#writeRows(conn, t, batch, sorted, pieces, kv);
          await this.#retire(conn, t.kind, existing.filter((p) => !written.files.includes(p.path)), range);
          return written;
        }),
      ),
    );
  }

  /**
   * Appends one flush of a live stream as stream parts, one per partition its rows occupy,
   * each covering [its first row's ts, its last row's ts + 1) and named after the flush
   * (part-ws-{session}-{seq}-…), so a retried flush replaces its own files. Deletes and
   * rewrites nothing else: a backfill's parts and other flushes stay, and reads merge them
   * by key (part-precedence.ts). A key repeated within `rows` keeps its last occurrence.
   * Durable as write(); empty `rows` writes nothing. `rows` as for write(). Returns the data
   * files written.
   */
  async append<K extends Kind>(
    target: Target & { kind: K },
    rows: RowsByKind[K][] | ColumnBatch,
    flush: StreamFlush,
    provenance: Provenance,
  ): Promise<{ rows: number; files: string[] }> {
    const t = checkTarget(target);
    const dir = this.datasetPath(t);
    checkFlush(flush);
    checkProvenance(provenance);
    const batch = batchToWrite(t.kind, rows);
    const bounds = checkBatch(t.kind, batch, ALL_TIME);
    if (!bounds) return { rows: 0, files: [] };
    const sorted = isSortedUnique[t.kind](batch);
    await this.#ready();
    // Flushes of one session run in turn; they never wait on a backfill's write, which leaves their parts alone.
    return this.#locks.run(`${dir}\0ws-${flush.session}`, () =>
      this.#engine.use((conn) =>
        guardStorage(dir, async () => {
          const stamp = nextWriteStamp();
          const sessionNs = this.#sessionStamps.get(flush.session) ?? stamp;
          this.#sessionStamps.set(flush.session, sessionNs);
          const kv = (w: Window) => ({
            ...footer(w, provenanceJson(provenance, stamp), stamp, 'ws'),
            [KV.session]: flush.session,
            [KV.seq]: String(flush.seq),
            [KV.sessionNs]: String(sessionNs),
          });
          const partitions = partitionsCovering(partitionGrain(t), { startNs: bounds.minTs, endNs: bounds.maxTs + 1n });
          const pieces = rowWindows(partitions, tsValues(batch)).map(({ partition, window }) => ({
            path: join(dir, partition.name, streamPartFileName(flush, window)),
            window,
          }));
          const written = await this.#writeRows(conn, t, batch, sorted, pieces, kv);
          // A retry whose rows differ from the first try's lands under other names: the first try's files go.
          for (const partition of partitions) {
            for (const p of await listPartsIn(dir, partition)) {
              if (p.stream?.session === flush.session && p.stream.seq === flush.seq && !written.files.includes(p.path)) await rm(p.path, { force: true });
            }
          }
          return written;
        }),
      ),
    );
  }

  /** Rows of [startNs, endNs) (either bound optional), sorted by ts then the rest of the key, as Arrow. */
  async read(target: Target, startNs?: bigint, endNs?: bigint): Promise<arrow.Table> {
    return toArrowTable(await this.#readBatch(target, startNs, endNs));
  }

  /** Same rows as plain objects, for small reads and tests. */
  async readRows<K extends Kind>(target: Target & { kind: K }, startNs?: bigint, endNs?: bigint): Promise<RowsByKind[K][]> {
    const batch = await this.#readBatch(target, startNs, endNs);
    return toRows(batch as ColumnBatch & { kind: K });
  }

  /**
   * Writes the rows read() would return into one Parquet file at `outPath` (same columns
   * and footer conventions), through a temp file renamed into place. Returns the row count.
   */
  async exportParquet(target: Target, outPath: string, startNs?: bigint, endNs?: bigint): Promise<number> {
    const t = checkTarget(target);
    const tmp = join(dirname(outPath), tempFileName());
    const kv = { [KV.timezone]: 'UTC', [KV.schema]: SCHEMA_VERSION };
    await this.#ready();
    return guardStorage(outPath, async () => {
      try {
        const copied = await this.#engine.use((conn) =>
          retryVanished(async () => conn.run(copySql(await this.#rangeSql(conn, t, startNs, endNs, fileColumnsSql(t.kind)), tmp, kv))),
        );
        await syncFile(tmp);
        await rename(tmp, outPath);
        return copied.rowsChanged;
      } finally {
        await rm(tmp, { force: true });
      }
    });
  }

  /**
   * The Parquet file exportParquet() would write, as a stream of its bytes. The file is made
   * under {data}/.dccd/ and unlinked as soon as it is open, so nothing is left behind however
   * the stream ends (on a system that cannot unlink an open file, once the stream closes).
   */
  async parquetStream(target: Target, startNs?: bigint, endNs?: bigint): Promise<{ rows: number; stream: Readable }> {
    const dir = join(this.dataPath, '.dccd', 'exports');
    const path = join(dir, `export-${tempFileName()}`);
    await guardStorage(dir, () => makeDirs(dir));
    try {
      const rows = await this.exportParquet(target, path, startNs, endNs);
      const file = await open(path);
      const unlinked = await rm(path).then(() => true, () => false);
      const stream = file.createReadStream();
      if (!unlinked) stream.once('close', () => void rm(path, { force: true }));
      return { rows, stream };
    } catch (e) {
      await rm(path, { force: true });
      throw e;
    }
  }

  /**
   * The rows read() would return, in batches of at most `batchRows`, holding one batch in
   * memory whatever the range. The range is read in slices (read-slices.ts), each one query
   * that lists its parts when it starts, so rows are ordered and de-duplicated as by read().
   * A slice whose files vanished under a concurrent write is retried until its first rows
   * come out, and only then: none of its rows has been given out yet. The consumer holds a
   * DuckDB connection until it has taken the last batch or stopped (return(), or `signal`).
   */
  async *stream(target: Target, startNs?: bigint, endNs?: bigint, o: StreamOptions = {}): AsyncGenerator<ColumnBatch> {
    const t = checkTarget(target);
    await this.#ready();
    const dir = this.datasetPath(t);
    const range = { startNs: startNs ?? ALL_TIME.startNs, endNs: endNs ?? ALL_TIME.endNs };
    const parts = range.startNs < range.endNs ? await listParts(dir, range) : [];
    const sized = await Promise.all(parts.map(async (p) => ({ ...p, bytes: (await stat(p.path).catch(() => undefined))?.size ?? 0 })));
    const bounds = [startNs, ...sliceCuts(sized, o.sliceBytes ?? SLICE_BYTES), endNs];
    yield* this.#engine.hold((conn) => this.#streamSlices(conn, t, bounds, o));
  }

  /**
   * Row count and ts extent of the whole dataset; null when it is empty. Footers answer it
   * (no data read) unless parts overlap (stream parts, or an interrupted write).
   */
  async stats(target: Target): Promise<{ rows: number; minTs: bigint; maxTs: bigint } | null> {
    const t = checkTarget(target);
    await this.#ready();
    return this.#engine.use((conn) =>
      retryVanished(async () => {
        const parts = await listParts(this.datasetPath(t));
        if (parts.length === 0) return null;
        const sql = hasOverlap(parts)
          ? `SELECT count(*), epoch_ns(min(ts)), epoch_ns(max(ts)) FROM ${await this.#sourceSql(conn, t.kind, parts)}`
          : `SELECT sum(row_group_num_rows), epoch_ns(min(stats_min_value::TIMESTAMP_NS)), epoch_ns(max(stats_max_value::TIMESTAMP_NS))
             FROM parquet_metadata([${parts.map((p) => quotedString(p.path)).join(', ')}]) WHERE path_in_schema = 'ts'`;
        const [rows, minTs, maxTs] = (await conn.runAndReadAll(sql)).getRows()[0]! as [bigint | null, bigint | null, bigint | null];
        return minTs === null || maxTs === null ? null : { rows: Number(rows), minTs, maxTs };
      }),
    );
  }

  /** Latest ts stored, from footer statistics where parts do not overlap; null for an empty dataset. */
  maxTs(target: Target): Promise<bigint | null> {
    return this.#edgeTs(target, 'max');
  }

  /** Earliest ts stored, from footer statistics where parts do not overlap; null for an empty dataset. */
  minTs(target: Target): Promise<bigint | null> {
    return this.#edgeTs(target, 'min');
  }

  /**
   * What rebuilds a book at `atNs`: the rows of the last snapshot at or before it, and the diff
   * rows after that snapshot (greater seq) up to `atNs` inclusive, in seq order; null when no
   * snapshot precedes `atNs`. A snapshot without a seq (a part written before book streams)
   * has no diffs: it is the book as it was fetched. Partitions are searched from `atNs` back.
   */
  async bookAt(target: Target & { kind: 'book' }, atNs: bigint): Promise<{ snapshot: BookRow[]; diffs: BookRow[] } | null> {
    const t = checkTarget(target);
    const dir = this.datasetPath(t);
    await this.#ready();
    const upTo: Window = { startNs: ALL_TIME.startNs, endNs: atNs + 1n };
    const partitions = (await listPartitions(dir, upTo)).reverse();
    return this.#engine.use((conn) =>
      retryVanished(async () => {
        for (const partition of partitions) {
          const window = intersect(partition, upTo)!;
          const found = await this.#bookRows(conn, t, window, `coalesce(is_snapshot, true)`, 'ts DESC, seq DESC NULLS LAST LIMIT 1');
          const last = found[0];
          if (!last) continue;
          const at = { startNs: last.ts, endNs: last.ts + 1n };
          const seqIs = last.seq === null ? 'seq IS NULL' : `seq = ${last.seq}`;
          const snapshot = await this.#bookRows(conn, t, at, `coalesce(is_snapshot, true) AND ${seqIs}`, 'side, level, price');
          if (last.seq === null) return { snapshot, diffs: [] };
          const after = { startNs: last.ts - SNAPSHOT_LAG_NS, endNs: atNs + 1n };
          return { snapshot, diffs: await this.#bookRows(conn, t, after, `NOT is_snapshot AND seq > ${last.seq}`, 'seq, ts, side, price') };
        }
        return null;
      }),
    );
  }

  /** Book rows of `window` (merged as a read merges them) that meet `cond`, ordered by `order`. */
  async #bookRows(conn: DuckDBConnection, t: Target, window: Window, cond: string, order: string): Promise<BookRow[]> {
    const parts = await listParts(this.datasetPath(t), window);
    const where = `${tsWithin(window)} AND ${cond}`;
    const source = await this.#sourceSql(conn, 'book', parts, tsWithin(window));
    const result = await conn.run(`SELECT ${readSelectSql('book')} FROM ${source} WHERE ${where} ORDER BY ${order}`);
    return toRows(collectBatch('book', Array.from({ length: result.chunkCount }, (_, k) => result.getChunk(k))) as ColumnBatch & { kind: 'book' });
  }

  /**
   * Removes temp files left by interrupted writes (run at start-up); returns how many.
   * A file whose writer (a process of this host, named in the file) is dead goes at once;
   * any other only when older than `minAgeMs`, since its writer may still be at work.
   */
  async cleanTemp(minAgeMs = TEMP_MIN_AGE_MS): Promise<number> {
    await this.#ready();
    let removed = 0;
    for (const path of await findTempFiles(this.dataPath)) {
      if (this.#inFlight.has(path)) continue;
      const s = await stat(path).catch(() => undefined);
      if (!s) continue;
      const writer = tempFileWriter(basename(path));
      const orphan = writer !== undefined && writer !== process.pid && !isAlive(writer);
      if (!orphan && Date.now() - s.mtimeMs < minAgeMs) continue;
      await guardStorage(path, () => rm(path, { force: true }));
      removed++;
    }
    return removed;
  }

  /**
   * Every dataset folder in the data path with what its parts hold, from their footers
   * (cached on size and mtime, so only new or changed files are opened), and the rows a read
   * of it returns: the footers' counts, except where parts overlap, which are counted through
   * the merge (their rows are read).
   */
  async datasets(): Promise<Array<DatasetDir & { parts: PartSummary[]; rows: number }>> {
    await this.#ready();
    const cache = (this.#footers ??= new FooterCache(this.dataPath));
    return this.#engine.use(async (conn) => {
      const out: Array<DatasetDir & { parts: PartSummary[]; rows: number }> = [];
      for (const d of await listDatasetDirs(this.dataPath)) {
        out.push(
          await retryVanished(async () => {
            const parts = await cache.summarize(conn, await listParts(d.dir));
            return { ...d, parts, rows: await this.#visibleRows(conn, d.datasetKind, parts) };
          }),
        );
      }
      await cache.save(new Set(out.flatMap((d) => d.parts.map((p) => p.path))));
      return out;
    });
  }

  /** Deletes every file of a dataset. */
  async drop(target: Target): Promise<void> {
    const dir = this.datasetPath(target);
    await this.#ready();
    await this.#locks.run(dir, () => guardStorage(dir, () => rm(dir, { recursive: true, force: true })));
  }

  async close(): Promise<void> {
    await this.#engine.close();
  }

  /** Migrates the data folder on first use, once per store; a failed attempt is retried by the next call. */
  #ready(): Promise<void> {
    this.#layout ??= ensureLayout(this.dataPath, (paths) => this.#stampsOf(paths)).catch((e: unknown) => {
      this.#layout = undefined;
      throw e;
    });
    return this.#layout;
  }

  #stampsOf(paths: string[]): Promise<Map<string, bigint>> {
    return this.#engine.use((conn) => ranksOf(conn, paths));
  }

  /** Rows a read of `parts` (in window order) returns; `datasetKind` names their columns. */
  async #visibleRows(conn: DuckDBConnection, datasetKind: string, parts: readonly PartSummary[]): Promise<number> {
    let rows = 0;
    const overlapping: PartSummary[] = [];
    for (const g of overlapGroups(parts)) {
      if (g.length > 1) overlapping.push(...g);
      else rows += g[0]!.rows;
    }
    if (overlapping.length === 0) return rows;
    const source = await this.#sourceSql(conn, parseDatasetKind(datasetKind).kind, overlapping);
    return rows + Number((await conn.runAndReadAll(`SELECT count(*) FROM ${source}`)).getRows()[0]![0] as bigint);
  }

  // ---- writing -------------------------------------------------------------------------------

  /** Writes the rows of each piece's window (one partition's worth, or less) to its path. */
  async #writeRows(
    conn: DuckDBConnection,
    t: Target,
    batch: ColumnBatch,
    sorted: boolean,
    pieces: ReadonlyArray<{ path: string; window: Window }>,
    kv: (w: Window) => Record<string, string>,
  ): Promise<{ rows: number; files: string[] }> {
    const files: string[] = [];
    let written = 0;
    if (pieces.length === 0) return { rows: 0, files };
    try {
      const source = await this.#load(conn, batch, sorted);
      for (const { path, window: w } of pieces) {
        const order = sorted ? '' : ` ORDER BY ${ORDER_BY[t.kind]}`;
        const select = `SELECT ${fileSelectSql(t.kind)} FROM ${source} WHERE ${loadTsWithin(w)}${order}`;
        const n = await this.#writePart(conn, select, path, kv(w));
        if (n > 0) files.push(path);
        written += n;
      }
    } finally {
      await conn.run(`DROP TABLE IF EXISTS ${LOAD_TABLE}; DROP TABLE IF EXISTS ${BATCH_TABLE}`);
    }
    return { rows: written, files };
  }

  /**
   * Removes the parts a write superseded, once its own parts are in place: parts wholly
   * inside the range are deleted, parts reaching outside it are first rewritten clipped.
   */
  async #retire(conn: DuckDBConnection, kind: Kind, parts: readonly PartFile[], range: Window): Promise<void> {
    for (const p of parts) if (!contains(range, p)) await this.#clip(conn, kind, p, range);
    // Left-over deletions after a power loss are harmless: newer parts outrank these.
    for (const p of parts) await rm(p.path, { force: true });
    await removeEmptyDirs(new Set(parts.map((p) => dirname(p.path))));
  }

  /** Loads a batch into a temp table; returns the table to copy from (de-duplicated, if needed). */
  async #load(conn: DuckDBConnection, batch: ColumnBatch, sorted: boolean): Promise<string> {
    const { kind } = batch;
    await conn.run(createLoadTableSql(kind, LOAD_TABLE));
    const appender = await conn.createAppender(LOAD_TABLE);
    try {
      const types = loadTypes(kind);
      const size = DuckDBVector.standardSize();
      for (let from = 0; from < batch.length; from += size) {
        const n = Math.min(size, batch.length - from);
        const chunk = DuckDBDataChunk.create(types, n);
        batch.columns.forEach((c, ci) => fillVector(chunk.getColumnVector(ci), c, from, n));
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    if (sorted) return LOAD_TABLE;
    // rowid is the insertion order, so the last occurrence of a key wins.
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE ${BATCH_TABLE} AS SELECT * FROM ${LOAD_TABLE} ` +
        `QUALIFY row_number() OVER (PARTITION BY ${dedupKeySql(kind)} ORDER BY rowid DESC) = 1`,
    );
    return BATCH_TABLE;
  }

  /**
   * COPYs `select` to a temp file next to `path`, makes it durable and renames it into
   * place, durably too, so the parts it supersedes can go. Writes nothing when the select
   * has no rows. Returns the row count.
   */
  async #writePart(conn: DuckDBConnection, select: string, path: string, kv: Record<string, string>): Promise<number> {
    const tmp = join(dirname(path), tempFileName());
    this.#inFlight.add(tmp);
    // Cleaning up inside the guard: where the write failed for good, removing the temp file
    // fails the same way and must not hide that behind a raw error.
    return guardStorage(path, async () => {
      try {
        await makeDirs(dirname(path));
        const n = (await conn.run(copySql(select, tmp, kv))).rowsChanged;
        if (n > 0) {
          await syncFile(tmp);
          await rename(tmp, path);
          await syncDir(dirname(path));
        }
        return n;
      } finally {
        this.#inFlight.delete(tmp);
        await rm(tmp, { force: true });
      }
    });
  }

  /**
   * Rewrites the parts of `p` outside `range` as parts of their own. They keep p's
   * provenance and rank: they hold p's rows, and must not outrank a newer part that
   * overlaps p (left by an interrupted write).
   */
  async #clip(conn: DuckDBConnection, kind: Kind, p: PartFile, range: Window): Promise<void> {
    const kv = await footerOf(conn, p.path);
    const rank = BigInt(kv[KV.writtenNs] ?? '0');
    const outside = [
      { startNs: p.startNs, endNs: range.startNs },
      { startNs: range.endNs, endNs: p.endNs },
    ].filter((w) => w.startNs < w.endNs);
    for (const w of outside) {
      const path = join(dirname(p.path), partFileName(w));
      // A part already at that name with an equal or higher rank holds the rows to keep.
      if (await fileExists(path)) {
        const there = await footerOf(conn, path);
        if (BigInt(there[KV.writtenNs] ?? '0') >= rank) continue;
      }
      const select = `SELECT ${fileColumnsSql(kind)} FROM ${readParquet(kind, [p.path])} WHERE ${tsWithin(w)}`;
      await this.#writePart(conn, select, path, { ...kv, [KV.timezone]: 'UTC', [KV.range]: rangeJson(w) });
    }
  }

  // ---- reading -------------------------------------------------------------------------------

  async #readBatch(target: Target, startNs?: bigint, endNs?: bigint): Promise<ColumnBatch> {
    const t = checkTarget(target);
    await this.#ready();
    return this.#engine.use((conn) =>
      retryVanished(async () => {
        const result = await conn.run(await this.#rangeSql(conn, t, startNs, endNs, readSelectSql(t.kind)));
        return collectBatch(t.kind, Array.from({ length: result.chunkCount }, (_, k) => result.getChunk(k)));
      }),
    );
  }

  /** The slices between consecutive `bounds` (undefined: open-ended), one after the other. */
  async *#streamSlices(conn: DuckDBConnection, t: Target, bounds: (bigint | undefined)[], o: StreamOptions): AsyncGenerator<ColumnBatch> {
    const interrupt = () => conn.interrupt();
    o.signal?.addEventListener('abort', interrupt);
    try {
      for (let i = 0; i + 1 < bounds.length; i++) {
        o.signal?.throwIfAborted();
        yield* this.#streamSlice(conn, t, bounds[i], bounds[i + 1], o.batchRows ?? READ_BATCH_ROWS);
      }
    } finally {
      o.signal?.removeEventListener('abort', interrupt);
    }
  }

  /** The rows of one slice [startNs, endNs), in batches of at most `batchRows` (or one chunk, if larger). */
  async *#streamSlice(conn: DuckDBConnection, t: Target, startNs: bigint | undefined, endNs: bigint | undefined, batchRows: number): AsyncGenerator<ColumnBatch> {
    const { result, first } = await retryVanished(async () => {
      const r = await conn.stream(await this.#rangeSql(conn, t, startNs, endNs, readSelectSql(t.kind)));
      return { result: r, first: await r.fetchChunk() };
    });
    let finished = false;
    try {
      let chunks: DuckDBDataChunk[] = [];
      let rows = 0;
      for (let chunk = first; chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
        if (rows > 0 && rows + chunk.rowCount > batchRows) {
          yield collectBatch(t.kind, chunks);
          chunks = [];
          rows = 0;
        }
        chunks.push(chunk);
        rows += chunk.rowCount;
      }
      finished = true;
      if (rows > 0) yield collectBatch(t.kind, chunks);
    } finally {
      // A result left open keeps its sorted rows until the connection's next statement;
      // one now ends it, so a consumer that stopped early frees them at once.
      if (!finished) await conn.run('SELECT 1').catch(() => undefined);
    }
  }

  /** SELECT `columns` of the rows in [startNs, endNs), in ORDER_BY order; lists the parts it reads. */
  async #rangeSql(conn: DuckDBConnection, t: Target, startNs: bigint | undefined, endNs: bigint | undefined, columns: string) {
    const range = { startNs: startNs ?? ALL_TIME.startNs, endNs: endNs ?? ALL_TIME.endNs };
    const parts = range.startNs < range.endNs ? await listParts(this.datasetPath(t), range) : [];
    const where = tsBetween(startNs, endNs);
    const source = await this.#sourceSql(conn, t.kind, parts, where);
    return `SELECT ${columns} FROM ${source}${where ? ` WHERE ${where}` : ''} ORDER BY ${ORDER_BY[t.kind]}`;
  }

  /**
   * The FROM source of `parts` (in window order): one read_parquet over their files when
   * their windows are disjoint (the normal case); where only REST parts overlap, each
   * restricted to where it wins; where a stream part overlaps others, their rows merged by
   * key (part-precedence.ts). `where`, a ts filter, narrows the merge to a read's range.
   */
  async #sourceSql(conn: DuckDBConnection, kind: Kind, parts: readonly PartFile[], where = ''): Promise<string> {
    if (parts.length === 0) return emptySourceSql(kind);
    const merged: PartFile[] = [];
    const ranked: PartFile[] = [];
    for (const g of overlapGroups(parts)) (g.length > 1 && g.some((p) => p.stream) ? merged : ranked).push(...g);
    if (merged.length === 0) return this.#rankedSourceSql(conn, kind, ranked);
    const sources = [await this.#mergedSourceSql(conn, kind, merged, where)];
    if (ranked.length > 0) sources.push(await this.#rankedSourceSql(conn, kind, ranked));
    const cols = fileColumnsSql(kind);
    return `(${sources.map((s) => `SELECT ${cols} FROM ${s}`).join(' UNION ALL ')})`;
  }

  /**
   * REST and stream parts merged by key: a REST row (REST parts settled among themselves by
   * rank) wins over any streamed row, and among streamed rows the latest flush's wins.
   */
  async #mergedSourceSql(conn: DuckDBConnection, kind: Kind, parts: readonly PartFile[], where: string): Promise<string> {
    const cols = fileColumnsSql(kind);
    const filter = where ? ` WHERE ${where}` : '';
    const rest = parts.filter((p) => !p.stream);
    const flushes = await this.#streamOrder(conn, parts.filter((p) => p.stream));
    const ranks = flushes.map((path, i) => `(${quotedString(path)}, ${i + 1})`).join(', ');
    const branches = [
      `SELECT ${cols}, r.dccd_rank FROM ${readParquet(kind, flushes, ', filename = true')} JOIN (VALUES ${ranks}) r(filename, dccd_rank) USING (filename)${filter}`,
    ];
    if (rest.length > 0) branches.unshift(`SELECT ${cols}, NULL::BIGINT AS dccd_rank FROM ${await this.#rankedSourceSql(conn, kind, rest)}${filter}`);
    return (
      `(SELECT ${cols} FROM (${branches.join(' UNION ALL ')}) ` +
      `QUALIFY row_number() OVER (PARTITION BY ${dedupKeySql(kind)} ORDER BY dccd_rank DESC NULLS FIRST) = 1)`
    );
  }

  /** Paths of stream parts from the oldest flush to the latest (part-precedence.ts streamOrder). */
  async #streamOrder(conn: DuckDBConnection, parts: readonly PartFile[]): Promise<string[]> {
    const kv = await footerValues(conn, parts.map((p) => p.path), [KV.sessionNs, KV.writtenNs]);
    const ranked = parts.map((p) => {
      const f = kv.get(p.path) ?? {};
      return { path: p.path, seq: p.stream!.seq, sessionNs: BigInt(f[KV.sessionNs] ?? '0'), writtenNs: BigInt(f[KV.writtenNs] ?? '0') };
    });
    return streamOrder(ranked).map((p) => p.path);
  }

  /** Parts of which none is a stream part overlapping another: disjoint, or REST parts settled by rank. */
  async #rankedSourceSql(conn: DuckDBConnection, kind: Kind, parts: readonly PartFile[]): Promise<string> {
    const cols = fileColumnsSql(kind);
    if (!hasOverlap(parts)) return `(SELECT ${cols} FROM ${readParquet(kind, parts.map((p) => p.path))})`;
    const ranks = await ranksOf(conn, parts.map((p) => p.path));
    const selects: string[] = [];
    const whole: string[] = [];
    for (const { part, windows } of visibleWindows(parts.map((p) => ({ ...p, rank: ranks.get(p.path) ?? 0n })))) {
      if (windows.length === 1 && windows[0]!.startNs === part.startNs && windows[0]!.endNs === part.endNs) whole.push(part.path);
      else if (windows.length > 0) {
        selects.push(`SELECT ${cols} FROM ${readParquet(kind, [part.path])} WHERE ${windows.map((w) => `(${tsWithin(w)})`).join(' OR ')}`);
      }
    }
    if (whole.length > 0) selects.push(`SELECT ${cols} FROM ${readParquet(kind, whole)}`);
    return `(${selects.join(' UNION ALL ')})`;
  }

  async #edgeTs(target: Target, edge: 'min' | 'max'): Promise<bigint | null> {
    const t = checkTarget(target);
    const dir = this.datasetPath(t);
    await this.#ready();
    const partitions = await listPartitions(dir);
    if (edge === 'max') partitions.reverse();
    return this.#engine.use((conn) =>
      retryVanished(async () => {
        for (const partition of partitions) {
          const parts = await listPartsIn(dir, partition);
          if (parts.length === 0) continue;
          let value: bigint | null;
          if (hasOverlap(parts)) {
            // Footers cannot tell which overlapping rows count: read the visible ts.
            const r = await conn.runAndReadAll(`SELECT epoch_ns(${edge}(ts)) FROM ${await this.#sourceSql(conn, t.kind, parts)}`);
            value = r.getRows()[0]![0] as bigint | null;
          } else {
            // Disjoint, non-empty parts: the one reaching furthest holds the edge ts.
            const part = edge === 'max' ? parts[parts.length - 1]! : parts[0]!;
            const stat = edge === 'max' ? 'stats_max_value' : 'stats_min_value';
            const r = await conn.runAndReadAll(
              `SELECT epoch_ns(${edge}(${stat}::TIMESTAMP_NS)) FROM parquet_metadata(${quotedString(part.path)}) ` +
                `WHERE path_in_schema = 'ts'`,
            );
            value = r.getRows()[0]![0] as bigint | null;
          }
          if (value !== null) return value;
        }
        return null;
      }),
    );
  }
}

const LOAD_TABLE = 'dccd_load';
const BATCH_TABLE = 'dccd_batch';

function copySql(select: string, path: string, kv: Record<string, string>): string {
  const kvSql = Object.entries(kv)
    .map(([k, v]) => `${quotedIdentifier(k)}: ${quotedString(v)}`)
    .join(', ');
  return `COPY (${select}) TO ${quotedString(path)} (${COPY_OPTIONS}, KV_METADATA {${kvSql}})`;
}

/**
 * The rows of `paths` as a FROM source. Book parts written before book streams lack the seq
 * and is_snapshot columns: book files are read by column name, and a column no file has is
 * null (a union with the kind's empty source), so old and new parts read as one.
 */
function readParquet(kind: Kind, paths: readonly string[], options = ''): string {
  const files = `[${paths.map((p) => quotedString(p)).join(', ')}]`;
  if (kind !== 'book') return `read_parquet(${files}, hive_partitioning = false${options})`;
  return `(SELECT * FROM ${emptySourceSql(kind)} UNION ALL BY NAME SELECT * FROM read_parquet(${files}, hive_partitioning = false, union_by_name = true${options}))`;
}

/** The rows of a write as a batch: row objects are checked and taken apart here (column-buffer.ts). */
function batchToWrite<K extends Kind>(kind: K, rows: RowsByKind[K][] | ColumnBatch): ColumnBatch {
  if (Array.isArray(rows)) return batchOf(kind, rows);
  if (typeof rows?.kind === 'string' && Array.isArray(rows.columns)) return rows;
  throw new ValidationError('rows', 'must be an array of rows or a ColumnBatch');
}

function checkRange(range: { startNs: bigint; endNs: bigint }): void {
  if (typeof range.startNs !== 'bigint') throw new ValidationError('range.startNs', 'must be a bigint of ns');
  if (typeof range.endNs !== 'bigint') throw new ValidationError('range.endNs', 'must be a bigint of ns');
  if (range.startNs >= range.endNs) throw new ValidationError('range', `start ${range.startNs} is not before end ${range.endNs}`);
}

function checkFlush(f: StreamFlush): void {
  if (typeof f?.session !== 'string' || !SESSION_TOKEN.test(f.session)) {
    throw new ValidationError('flush.session', `${JSON.stringify(f?.session)} is not 1 to 32 lower-case letters and digits`);
  }
  if (!Number.isSafeInteger(f.seq) || f.seq < 0) throw new ValidationError('flush.seq', `${String(f.seq)} is not a non-negative integer`);
}

function checkProvenance(p: Provenance): void {
  if (!p?.source) throw new ValidationError('provenance.source', 'required');
  if (!p.adapterVersion) throw new ValidationError('provenance.adapterVersion', 'required');
}

const provenanceJson = (p: Provenance, stamp: bigint): string =>
  JSON.stringify({ source: p.source, adapter_version: p.adapterVersion, written_at: isoFromNs(stamp) });

// ns as JSON numbers: exact in the text (Python and DuckDB parse them as int64); JS
// consumers need a bigint-aware parser.
const rangeJson = (w: Window): string => `{"start_ns":${w.startNs},"end_ns":${w.endNs}}`;

function footer(w: Window, provenance: string, stamp: bigint, source: PartSource): Record<string, string> {
  return {
    [KV.source]: source,
    [KV.provenance]: provenance,
    [KV.timezone]: 'UTC',
    [KV.range]: rangeJson(w),
    [KV.schema]: SCHEMA_VERSION,
    [KV.writtenNs]: String(stamp),
  };
}

async function footerOf(conn: DuckDBConnection, path: string): Promise<Record<string, string>> {
  const r = await conn.runAndReadAll(
    `SELECT decode(key), decode(value) FROM parquet_kv_metadata(${quotedString(path)}) WHERE starts_with(decode(key), 'dccd.')`,
  );
  return Object.fromEntries(r.getRows() as [string, string][]);
}

/** The footer values of `keys` in each file, by path as given; a file without any is absent. */
async function footerValues(conn: DuckDBConnection, paths: readonly string[], keys: readonly string[]): Promise<Map<string, Record<string, string>>> {
  const r = await conn.runAndReadAll(
    `SELECT file_name, decode(key), decode(value) FROM parquet_kv_metadata([${paths.map((p) => quotedString(p)).join(', ')}]) ` +
      `WHERE key IN (${keys.map((k) => `${quotedString(k)}::BLOB`).join(', ')})`,
  );
  const out = new Map<string, Record<string, string>>();
  for (const [file, key, value] of r.getRows() as [string, string, string][]) out.set(file, { ...out.get(file), [key]: value });
  return out;
}

/** Write stamps of part files, by path as given. */
async function ranksOf(conn: DuckDBConnection, paths: readonly string[]): Promise<Map<string, bigint>> {
  const kv = await footerValues(conn, paths, [KV.writtenNs]);
  return new Map([...kv].map(([file, f]) => [file, BigInt(f[KV.writtenNs]!)]));
}

/** Retries `fn` when a file it listed was deleted by a concurrent write before DuckDB opened it. */
async function retryVanished<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= READ_ATTEMPTS || !(e instanceof Error) || !VANISHED_FILE.test(e.message)) throw e;
    }
  }
}
