// Where a dataset's files live and what their names mean. Hive-style, so DuckDB, pyarrow and
// polars read a dataset folder as is, and one glob over a kind reads every venue and symbol
// with `exchange` and `symbol` columns (and prunes on them):
//   {data}/{datasetKind}/exchange={exchange}/symbol={BASE-QUOTE}/{partition}/part-{startNs}-{endNs}.parquet
// e.g. data/ohlc-1m/exchange=binance/symbol=BTC-USDT/month=2024-01/part-….parquet. The
// first layout, {data}/{exchange}/{datasetKind}/{SYMBOL}/…, is moved once by layout-migration.ts.
// A REST part's name is the window [startNs, endNs) it covers, so a retried write lands on
// the same name and replaces the file instead of adding a second copy. A stream part's name,
// part-ws-{session}-{seq}-{startNs}-{endNs}.parquet, adds the flush that wrote it, so a
// retried flush replaces its own file and two sessions never collide.
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ValidationError } from '../domain/errors.ts';
import type { Interval } from '../domain/intervals.ts';
import { NS_PER_MS } from '../domain/time.ts';
import type { Target } from '../domain/target.ts';
import { checkTarget, datasetKind, spanApproxNs, symbolSlug } from '../domain/target.ts';

/** Half-open [startNs, endNs). */
export type Window = Interval;

export type PartitionGrain = 'day' | 'month' | 'year';

export interface Partition extends Window {
  /** Folder name: date=YYYY-MM-DD, month=YYYY-MM or year=YYYY. */
  name: string;
}

const DAY_NS = 86_400n * 1_000_000_000n;
/** A part holds at least this many rows when the venue trades at all in its window. */
const MIN_ROWS_PER_PARTITION = 10_000n;
const GRAIN_APPROX_NS: ReadonlyArray<readonly [PartitionGrain, bigint]> = [
  ['day', DAY_NS],
  ['month', 30n * DAY_NS],
  ['year', 365n * DAY_NS],
];

/**
 * The smallest of day, month, year whose expected row count reaches 10^4. Below that, a
 * dataset turns into thousands of tiny files (1-hour candles would make 24-row day files)
 * and every read pays per-file overhead; above 10^7 rows per partition a rewrite of one
 * window gets expensive. Trades and book snapshots are dense enough for days; candles are
 * one row per span: 1s → day, 1m and 3m → month, 5m and longer → year (the largest grain).
 */
export function partitionGrain(t: Pick<Target, 'kind' | 'span'>): PartitionGrain {
  if (t.kind !== 'ohlc') return 'day';
  const span = spanApproxNs(t.span ?? '');
  for (const [grain, ns] of GRAIN_APPROX_NS) if (ns / span >= MIN_ROWS_PER_PARTITION) return grain;
  return 'year';
}

const msFloor = (ns: bigint): number => Number((ns - (((ns % NS_PER_MS) + NS_PER_MS) % NS_PER_MS)) / NS_PER_MS);
const nsOfMs = (ms: number): bigint => BigInt(ms) * NS_PER_MS;
const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** The partition of `grain` that holds `ns`. */
export function partitionOf(grain: PartitionGrain, ns: bigint): Partition {
  const d = new Date(msFloor(ns));
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (grain) {
    case 'day': {
      const day = d.getUTCDate();
      const startNs = nsOfMs(Date.UTC(y, m, day));
      return { name: `date=${pad(y, 4)}-${pad(m + 1, 2)}-${pad(day, 2)}`, startNs, endNs: startNs + DAY_NS };
    }
    case 'month':
      return { name: `month=${pad(y, 4)}-${pad(m + 1, 2)}`, startNs: nsOfMs(Date.UTC(y, m, 1)), endNs: nsOfMs(Date.UTC(y, m + 1, 1)) };
    case 'year':
      return { name: `year=${pad(y, 4)}`, startNs: nsOfMs(Date.UTC(y, 0, 1)), endNs: nsOfMs(Date.UTC(y + 1, 0, 1)) };
  }
}

/** Partitions of `grain` that intersect [startNs, endNs), in time order. */
export function partitionsCovering(grain: PartitionGrain, w: Window): Partition[] {
  const out: Partition[] = [];
  for (let p = partitionOf(grain, w.startNs); p.startNs < w.endNs; p = partitionOf(grain, p.endNs)) out.push(p);
  return out;
}

/**
 * For each of `partitions` (in time order, adjoining) that holds rows, the window from its
 * first row's ts to just after its last, given the rows' ts: what a stream part covers.
 */
export function rowWindows(partitions: readonly Partition[], rowTs: ArrayLike<bigint>): Array<{ partition: Partition; window: Window }> {
  const windows: Array<Window | undefined> = partitions.map(() => undefined);
  for (let i = 0; i < rowTs.length; i++) {
    const ts = rowTs[i]!;
    let lo = 0;
    for (let hi = partitions.length - 1; lo < hi; ) {
      const mid = (lo + hi + 1) >> 1;
      if (partitions[mid]!.startNs <= ts) lo = mid;
      else hi = mid - 1;
    }
    const w = windows[lo];
    if (!w) windows[lo] = { startNs: ts, endNs: ts + 1n };
    else if (ts < w.startNs) w.startNs = ts;
    else if (ts >= w.endNs) w.endNs = ts + 1n;
  }
  return partitions.flatMap((partition, i) => (windows[i] ? [{ partition, window: windows[i] }] : []));
}

const PARTITION_NAME = /^(?:date=(\d{4})-(\d{2})-(\d{2})|month=(\d{4})-(\d{2})|year=(\d{4}))$/;

/** Bounds of a partition folder of any grain; undefined for anything else. */
export function parsePartitionName(name: string): Partition | undefined {
  const m = PARTITION_NAME.exec(name);
  if (!m) return undefined;
  if (m[1]) return checkedPartition(name, partitionOf('day', nsOfMs(Date.UTC(+m[1], +m[2]! - 1, +m[3]!))));
  if (m[4]) return checkedPartition(name, partitionOf('month', nsOfMs(Date.UTC(+m[4], +m[5]! - 1, 1))));
  return checkedPartition(name, partitionOf('year', nsOfMs(Date.UTC(+m[6]!, 0, 1))));
}

/** Rejects names like date=2024-02-31 that Date.UTC would roll over into another day. */
function checkedPartition(name: string, p: Partition): Partition | undefined {
  return p.name === name ? p : undefined;
}

/** [a, b) ∩ [c, d), or undefined when empty. */
export function intersect(a: Window, b: Window): Window | undefined {
  const startNs = a.startNs > b.startNs ? a.startNs : b.startNs;
  const endNs = a.endNs < b.endNs ? a.endNs : b.endNs;
  return startNs < endNs ? { startNs, endNs } : undefined;
}

export const contains = (outer: Window, inner: Window): boolean =>
  outer.startNs <= inner.startNs && inner.endNs <= outer.endNs;

/** Which writer made a part: a backfill (REST) or a live stream (WebSocket). */
export type PartSource = 'rest' | 'ws';

/** One flush of a stream: the session's token and the flush's number within it. */
export interface StreamFlush {
  /** [a-z0-9]{1,32}, chosen by the caller. */
  session: string;
  /** Increasing within the session; a retried flush repeats its number. */
  seq: number;
}

/** A part's window, and for a stream part the flush that wrote it (absent: a REST part). */
export interface PartName extends Window {
  stream?: StreamFlush;
}

const SESSION = '[a-z0-9]{1,32}';
export const SESSION_TOKEN = new RegExp(`^${SESSION}$`);

export const partFileName = (w: Window): string => `part-${w.startNs}-${w.endNs}.parquet`;
export const streamPartFileName = (f: StreamFlush, w: Window): string => `part-ws-${f.session}-${f.seq}-${w.startNs}-${w.endNs}.parquet`;

const PART_NAME = new RegExp(`^part-(?:ws-(${SESSION})-(\\d{1,16})-)?(-?\\d{1,20})-(-?\\d{1,20})\\.parquet$`);

/** What a part's file name says; undefined for any other name. A name without a source marker is a REST part's. */
export function parsePartFileName(name: string): PartName | undefined {
  const m = PART_NAME.exec(name);
  if (!m) return undefined;
  const w = { startNs: BigInt(m[3]!), endNs: BigInt(m[4]!) };
  if (!(w.startNs < w.endNs)) return undefined;
  return m[1] === undefined ? w : { ...w, stream: { session: m[1], seq: Number(m[2]) } };
}

// Temp files must not end in .parquet: DuckDB's glob `**/*.parquet` matches dot-files too
// (checked with DuckDB 1.5.6), so a `.tmp-*.parquet` name would be read as data mid-write.
// The writer's host (hashed) and pid are in the name, so start-up can remove at once what a
// dead process of this host left, even in a data folder several hosts share.
const TEMP_NAME = /^\.tmp-([0-9a-f]{8})-(\d+)-[0-9a-f]{16}\.parquet-partial$/;
const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

export const tempFileName = (): string => `.tmp-${HOST}-${process.pid}-${randomBytes(8).toString('hex')}.parquet-partial`;
export const isTempFileName = (name: string): boolean => TEMP_NAME.test(name);
/** The pid that wrote a temp file, when it was a process of this host. */
export const tempFileWriter = (name: string): number | undefined => {
  const m = TEMP_NAME.exec(name);
  return m && m[1] === HOST ? Number(m[2]) : undefined;
};

const EXCHANGE_FOLDER = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** {data}/{datasetKind}/exchange={exchange}/symbol={SYMBOL}; every segment is checked before it touches a path. */
export function datasetDir(dataPath: string, target: Target): string {
  const t = checkTarget(target);
  if (!EXCHANGE_FOLDER.test(t.exchange)) {
    throw new ValidationError('exchange', `'${t.exchange}' is not a lower-case name of letters, digits, '-' and '_'`);
  }
  return join(dataPath, datasetKind(t), `exchange=${t.exchange}`, `symbol=${symbolSlug(t.symbol)}`);
}
