// What each part file holds (rows, first and last ts) from its Parquet footer, with a cache
// keyed on path, size and mtime under {data}/.dccd/, so a second inventory of thousands of
// parts stats the files and opens none of them.
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { quotedString } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { VANISHED_FILE } from './dataset-files.ts';
import type { PartFile } from './dataset-files.ts';
import { tempFileName } from './parquet-layout.ts';

export interface PartFooter {
  rows: number;
  /** ns; null for a file without rows. */
  minTs: bigint | null;
  maxTs: bigint | null;
}

export interface PartSummary extends PartFile, PartFooter {
  bytes: number;
}

interface CacheEntry {
  size: number;
  mtimeMs: number;
  rows: number;
  minTs: string | null;
  maxTs: string | null;
}

const CACHE_FILE = 'footer-cache.json';
const CACHE_VERSION = 1;
/** Files per metadata query: bounds the SQL text and what one query holds. */
const FOOTERS_PER_QUERY = 500;
/** stat calls in flight at once. */
const STAT_CONCURRENCY = 64;

export class FooterCache {
  readonly #path: string;
  #entries: Map<string, CacheEntry> | undefined;
  #dirty = false;

  constructor(dataPath: string) {
    this.#path = join(dataPath, '.dccd', CACHE_FILE);
  }

  /**
   * Summaries of `parts`, in their order; footers are read only for files new or changed
   * since the last call. Parts that vanish meanwhile (a concurrent write) are left out.
   */
  async summarize(conn: DuckDBConnection, parts: readonly PartFile[]): Promise<PartSummary[]> {
    const entries = await this.#load();
    const stats = await mapLimit(parts, STAT_CONCURRENCY, (p) => stat(p.path).catch(() => undefined));
    const stale: number[] = [];
    parts.forEach((p, i) => {
      const s = stats[i];
      const e = entries.get(p.path);
      if (s && !(e && e.size === s.size && e.mtimeMs === s.mtimeMs)) stale.push(i);
    });
    for (let from = 0; from < stale.length; from += FOOTERS_PER_QUERY) {
      const batch = stale.slice(from, from + FOOTERS_PER_QUERY);
      const footers = await readFooters(conn, batch.map((i) => parts[i]!.path));
      for (const i of batch) {
        const f = footers.get(parts[i]!.path);
        const s = stats[i]!;
        if (!f) continue;
        entries.set(parts[i]!.path, { size: s.size, mtimeMs: s.mtimeMs, rows: f.rows, minTs: f.minTs?.toString() ?? null, maxTs: f.maxTs?.toString() ?? null });
        this.#dirty = true;
      }
    }
    const out: PartSummary[] = [];
    parts.forEach((p, i) => {
      const e = entries.get(p.path);
      const s = stats[i];
      if (!e || !s || e.size !== s.size || e.mtimeMs !== s.mtimeMs) return;
      out.push({ ...p, bytes: s.size, rows: e.rows, minTs: e.minTs === null ? null : BigInt(e.minTs), maxTs: e.maxTs === null ? null : BigInt(e.maxTs) });
    });
    return out;
  }

  /** Writes the cache back, keeping only `live` paths, when it changed. A cache that cannot be written costs the next call time, nothing else. */
  async save(live: ReadonlySet<string>): Promise<void> {
    const entries = await this.#load();
    for (const path of entries.keys()) {
      if (!live.has(path)) {
        entries.delete(path);
        this.#dirty = true;
      }
    }
    if (!this.#dirty) return;
    const tmp = join(this.#path, '..', tempFileName());
    try {
      await writeFile(tmp, JSON.stringify({ version: CACHE_VERSION, entries: Object.fromEntries(entries) }));
      await rename(tmp, this.#path);
      this.#dirty = false;
    } catch {
      await rm(tmp, { force: true });
    }
  }

  async #load(): Promise<Map<string, CacheEntry>> {
    if (this.#entries) return this.#entries;
    try {
      const doc = JSON.parse(await readFile(this.#path, 'utf8')) as { version?: number; entries?: Record<string, CacheEntry> };
      this.#entries = doc.version === CACHE_VERSION && doc.entries ? new Map(Object.entries(doc.entries)) : new Map();
    } catch {
      // Missing or unreadable: rebuilt from the footers.
      this.#entries = new Map();
    }
    return this.#entries;
  }
}

/** Row count and ts bounds of each file, from footer statistics only (no data pages read). */
async function readFooters(conn: DuckDBConnection, paths: readonly string[]): Promise<Map<string, PartFooter>> {
  const out = new Map<string, PartFooter>();
  if (paths.length === 0) return out;
  let r;
  try {
    r = await conn.runAndReadAll(footerSql(paths));
  } catch (e) {
    // A concurrent write replaced a file between the listing and this query: read the rest.
    if (!(e instanceof Error) || !VANISHED_FILE.test(e.message)) throw e;
    const present = (await mapLimit(paths, STAT_CONCURRENCY, (p) => stat(p).then(() => p, () => undefined))).filter((p) => p !== undefined);
    if (present.length === paths.length) throw e;
    return readFooters(conn, present);
  }
  for (const [file, rows, minTs, maxTs] of r.getRows() as [string, bigint | null, bigint | null, bigint | null][]) {
    out.set(file, { rows: Number(rows ?? 0n), minTs, maxTs });
  }
  return out;
}

function footerSql(paths: readonly string[]): string {
  return `SELECT file_name, sum(row_group_num_rows), epoch_ns(min(stats_min_value::TIMESTAMP_NS)), epoch_ns(max(stats_max_value::TIMESTAMP_NS))
    FROM parquet_metadata([${paths.map((p) => quotedString(p)).join(', ')}]) WHERE path_in_schema = 'ts' GROUP BY file_name`;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
