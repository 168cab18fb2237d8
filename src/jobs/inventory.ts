// Inventory, what is stored: every dataset on disk or in the coverage manifest, tracked by a
// job or not, with its files, rows, bytes, first and last ts, what it covers and its holes.
import type { JobSpec } from '../domain/job-spec.ts';
import { gapsOf, subtract, unionOf, type Interval } from '../domain/intervals.ts';
import { datasetId, datasetIdOf } from '../domain/target.ts';
import { isoFromNs } from '../domain/time.ts';
import type { Coverage, CoverageSource } from '../storage/coverage-store.ts';
import type { PartSummary } from '../storage/part-footers.ts';
import type { Services } from '../services.ts';

/**
 * 'not covered': between two covered intervals, never downloaded (a failed window, a stream
 * outage). 'no files': covered, but no file holds it (deleted, purged, or a whole window
 * without candles).
 */
export const HOLE_REASONS = ['not covered', 'no files'] as const;
export type HoleReason = (typeof HOLE_REASONS)[number];

export interface Hole extends Interval {
  reason: HoleReason;
}

export interface DatasetInventory {
  /** 'binance/ohlc-1m/BTC-USDT'. */
  datasetId: string;
  exchange: string;
  /** Unified, 'BTC/USDT'. */
  symbol: string;
  /** Dataset kind: 'ohlc-1m', 'trades', 'book'. */
  kind: string;
  files: number;
  rows: number;
  bytes: number;
  firstTs: bigint | null;
  lastTs: bigint | null;
  /**
   * Per source, the covered intervals the manifest records. 'files' when it records none
   * (data copied in, or written before the manifest had intervals): the parts' windows.
   */
  coverage: Partial<Record<CoverageSource | 'files', Interval[]>>;
  /**
   * Spans inside the covered range that hold no data. Books: the gaps between a stream's covered
   * spans (outages, resyncs), where the book is not known; REST snapshots are instants, no span.
   */
  holes: Hole[];
  /** Most rows the manifest ever saw in the dataset; more than `rows` means files went missing. */
  recordedRows: number | null;
  /** Jobs whose target this is. */
  jobs: string[];
}

export async function inventory(services: Pick<Services, 'store' | 'coverage'>, specs: readonly JobSpec[]): Promise<DatasetInventory[]> {
  const coverageStore = await services.coverage();
  const [onDisk, covered, extents] = await Promise.all([services.store.datasets(), coverageStore.coverageOfAll(), coverageStore.list()]);
  const recorded = new Map(extents.map((e) => [e.datasetId, e]));
  const jobsOf = new Map<string, string[]>();
  for (const s of specs) jobsOf.set(datasetId(s.target), [...(jobsOf.get(datasetId(s.target)) ?? []), s.id]);

  const out = new Map<string, DatasetInventory>();
  for (const d of onDisk) {
    const id = datasetIdOf(d.exchange, d.datasetKind, d.symbolSlug);
    out.set(id, summaryOf(id, d.exchange, d.symbolSlug.replace('-', '/'), d.datasetKind, d, covered.get(id), recorded.get(id)?.rows ?? null, jobsOf.get(id) ?? []));
  }
  // Datasets the manifest knows whose files are all gone (deleted, purged).
  for (const e of extents) {
    if (out.has(e.datasetId)) continue;
    out.set(e.datasetId, summaryOf(e.datasetId, e.exchange, e.symbol, e.kind, { parts: [], rows: 0 }, covered.get(e.datasetId), e.rows, jobsOf.get(e.datasetId) ?? []));
  }
  return [...out.values()].sort((a, b) => (a.datasetId < b.datasetId ? -1 : a.datasetId > b.datasetId ? 1 : 0));
}

function summaryOf(
  id: string,
  exchange: string,
  symbol: string,
  kind: string,
  /** The dataset's parts, and the rows a read of them returns (overlapping parts merged). */
  { parts, rows }: { parts: readonly PartSummary[]; rows: number },
  manifest: Coverage | undefined,
  recordedRows: number | null,
  jobs: string[],
): DatasetInventory {
  let firstTs: bigint | null = null;
  let lastTs: bigint | null = null;
  for (const p of parts) {
    if (p.minTs !== null && (firstTs === null || p.minTs < firstTs)) firstTs = p.minTs;
    if (p.maxTs !== null && (lastTs === null || p.maxTs > lastTs)) lastTs = p.maxTs;
  }
  const filed = unionOf(parts);
  const hasManifest = manifest !== undefined && Object.values(manifest).some((set) => set.length > 0);
  return {
    datasetId: id,
    exchange,
    symbol,
    kind,
    files: parts.length,
    rows,
    bytes: parts.reduce((n, p) => n + p.bytes, 0),
    firstTs,
    lastTs,
    coverage: hasManifest ? manifest : filed.length > 0 ? { files: filed } : {},
    holes: holesOf(kind, kind === 'book' ? (manifest?.ws ?? []) : hasManifest ? unionOf(Object.values(manifest).flat()) : filed, filed),
    recordedRows,
    jobs,
  };
}

/**
 * Gaps between covered intervals; and, for candles, covered spans no file holds. A venue
 * serves a candle for every span it trades in, so a candle dataset's files tile its coverage;
 * a trades window where nobody traded leaves no file at all, so for trades a missing file
 * is not told apart from a quiet window (recordedRows against rows tells of lost rows).
 */
export function holesOf(kind: string, covered: readonly Interval[], filed: readonly Interval[]): Hole[] {
  const holes: Hole[] = gapsOf(covered).map((w) => ({ ...w, reason: 'not covered' }));
  if (kind.startsWith('ohlc-')) for (const c of covered) for (const w of subtract(c, filed)) holes.push({ ...w, reason: 'no files' });
  return holes.sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
}

// ---- as the API and `dccd inventory --json` answer it: ns as strings, with ISO times beside ----

export interface SpanJson {
  startNs: string;
  endNs: string;
  start: string;
  end: string;
}

export interface InventoryEntry extends Omit<DatasetInventory, 'firstTs' | 'lastTs' | 'coverage' | 'holes'> {
  firstTs: string | null;
  lastTs: string | null;
  first: string | null;
  last: string | null;
  coverage: Partial<Record<CoverageSource | 'files', SpanJson[]>>;
  holes: Array<SpanJson & { reason: HoleReason }>;
}

const spanJson = (w: Interval): SpanJson => ({ startNs: String(w.startNs), endNs: String(w.endNs), start: isoFromNs(w.startNs), end: isoFromNs(w.endNs) });

export function inventoryEntry(d: DatasetInventory): InventoryEntry {
  return {
    ...d,
    firstTs: d.firstTs === null ? null : String(d.firstTs),
    lastTs: d.lastTs === null ? null : String(d.lastTs),
    first: d.firstTs === null ? null : isoFromNs(d.firstTs),
    last: d.lastTs === null ? null : isoFromNs(d.lastTs),
    coverage: Object.fromEntries(Object.entries(d.coverage).map(([source, set]) => [source, set.map(spanJson)])),
    holes: d.holes.map((h) => ({ ...spanJson(h), reason: h.reason })),
  };
}
