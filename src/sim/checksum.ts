// The checksum that ties a download to the simulator's truth (definition in README.md):
// sha256 hex over one line per row, in ascending ts (trades tied on ts go by numeric trade
// id), fields joined by ',' and each line ended by '\n'. Numbers are written with JS
// String(x), null as the empty string.
//   ohlc:   ts_ns,open,high,low,close,volume,quote_volume,trades
//   trades: ts_ns,trade_id,price,amount,side
import { createHash, type Hash } from 'node:crypto';
import type { OhlcRow, TradeRow } from '../domain/records.ts';

export type ChecksumKind = 'ohlc' | 'trades';

export interface ChecksumSummary {
  rows: number;
  first_ts: string | null;
  last_ts: string | null;
  checksum: string;
}

const field = (x: number | bigint | string | null | undefined): string => (x === null || x === undefined ? '' : String(x));

export function ohlcLine(r: OhlcRow): string {
  return [r.ts, r.open, r.high, r.low, r.close, r.volume, r.quoteVolume, r.trades].map(field).join(',');
}

export function tradeLine(r: TradeRow): string {
  return [r.ts, r.tradeId, r.price, r.amount, r.side].map(field).join(',');
}

/** Feeds rows that already come in checksum order; for large ranges without holding them. */
export class ChecksumBuilder {
  private readonly hash: Hash = createHash('sha256');
  private count = 0;
  private first: bigint | null = null;
  private last: bigint | null = null;

  add(ts: bigint, line: string): void {
    this.hash.update(`${line}\n`);
    if (this.first === null) this.first = ts;
    this.last = ts;
    this.count++;
  }

  summary(): ChecksumSummary {
    return {
      rows: this.count,
      first_ts: this.first === null ? null : String(this.first),
      last_ts: this.last === null ? null : String(this.last),
      checksum: this.hash.digest('hex'),
    };
  }
}

/** Checksum of normalized rows in any order (they are sorted first), e.g. as read back from the store. */
export function checksumRows(kind: 'ohlc', rows: readonly OhlcRow[]): string;
export function checksumRows(kind: 'trades', rows: readonly TradeRow[]): string;
export function checksumRows(kind: ChecksumKind, rows: readonly (OhlcRow | TradeRow)[]): string;
export function checksumRows(kind: ChecksumKind, rows: readonly (OhlcRow | TradeRow)[]): string {
  return summarizeRows(kind, rows).checksum;
}

/** Count, first/last ts and checksum of normalized rows in any order. */
export function summarizeRows(kind: ChecksumKind, rows: readonly (OhlcRow | TradeRow)[]): ChecksumSummary {
  const b = new ChecksumBuilder();
  if (kind === 'ohlc') {
    for (const r of [...(rows as OhlcRow[])].sort((x, y) => compareBigint(x.ts, y.ts))) b.add(r.ts, ohlcLine(r));
  } else {
    const sorted = [...(rows as TradeRow[])].sort((x, y) => compareBigint(x.ts, y.ts) || compareIds(x.tradeId, y.tradeId));
    for (const r of sorted) b.add(r.ts, tradeLine(r));
  }
  return b.summary();
}

function compareBigint(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Numeric order for numeric ids (so '10' follows '9'), text order otherwise. */
function compareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return compareBigint(BigInt(a), BigInt(b));
  return a < b ? -1 : a > b ? 1 : 0;
}
