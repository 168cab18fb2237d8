// What each tool wrote, against the simulator's truth: row count and checksum (src/sim/README.md)
// over the whole dataset, so a missing, extra or altered row all show.
import { DuckDBInstance, quotedString } from '@duckdb/node-api';
import type { OhlcRow, TradeRow } from '../../src/domain/records.ts';
import type { Target } from '../../src/domain/target.ts';
import { summarizeRows, type ChecksumSummary } from '../../src/sim/checksum.ts';
import { ParquetStore } from '../../src/storage/parquet-store.ts';

export type PeerKind = 'ohlc' | 'trades';

export async function truth(simUrl: string, q: { native: string; kind: PeerKind; span?: string; start: string; end: string }): Promise<ChecksumSummary> {
  const span = q.span ? `&span=${q.span}` : '';
  const res = await fetch(`${simUrl}/_sim/truth?exchange=binance&symbol=${q.native}&kind=${q.kind}${span}&start=${q.start}&end=${q.end}`);
  if (!res.ok) throw new Error(`truth: ${res.status} ${await res.text()}`);
  return (await res.json()) as ChecksumSummary;
}

/** dccd's dataset, read back the way users read it: through its store. */
export async function dccdOutput(dataPath: string, target: Target & { kind: PeerKind }): Promise<ChecksumSummary> {
  const store = new ParquetStore(dataPath);
  try {
    return summarizeRows(target.kind, await store.readRows(target));
  } finally {
    await store.close();
  }
}

// dccd-python's files ({data}/binance/{kind}/{pair}/...), columns as its ParquetStore writes them.
const PYTHON_COLUMNS: Record<PeerKind, string> = {
  ohlc: 'TS, open, high, low, close, volume, quote_volume, trades',
  trades: 'TS, tid, price, amount, side',
};

/** dccd-python's dataset, every file of it, through DuckDB. */
export async function pythonOutput(dataPath: string, kind: PeerKind): Promise<ChecksumSummary> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const glob = quotedString(`${dataPath}/binance/${kind}/**/*.parquet`);
    const rows = (await conn.runAndReadAll(`SELECT ${PYTHON_COLUMNS[kind]} FROM read_parquet(${glob})`)).getRows();
    if (kind === 'trades') {
      return summarizeRows(kind, rows.map(([ts, tradeId, price, amount, side]) => ({ ts, tradeId, price, amount, side }) as TradeRow));
    }
    return summarizeRows(
      kind,
      rows.map(([ts, open, high, low, close, volume, quoteVolume, trades]) => ({ ts, open, high, low, close, volume, quoteVolume, trades: trades === null ? null : Number(trades) }) as OhlcRow),
    );
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** How `got` differs from the truth, or undefined when it holds exactly the truth. */
export function difference(want: ChecksumSummary, got: ChecksumSummary): string | undefined {
  if (got.rows === want.rows && got.checksum === want.checksum) return undefined;
  return `${got.rows} rows, checksum ${got.checksum.slice(0, 12)}…; the truth: ${want.rows} rows, checksum ${want.checksum.slice(0, 12)}…`;
}
