// What dccd collects: an exchange, a symbol and a kind of data (with a span for candles).
import { ValidationError } from './errors.ts';
import { NS_PER_S } from './time.ts';

/** Every venue the product knows by name; an adapter registry says which are implemented. */
export const EXCHANGES = ['binance', 'coinbase', 'kraken', 'bybit', 'okx', 'bitfinex', 'bitmex'] as const;
export type ExchangeName = (typeof EXCHANGES)[number];

export const KINDS = ['ohlc', 'trades', 'book'] as const;
export type Kind = (typeof KINDS)[number];

export interface Target {
  exchange: ExchangeName;
  /** Unified form, BASE/QUOTE, upper case. */
  symbol: string;
  kind: Kind;
  /** Candle span such as '1m'; present exactly when kind is 'ohlc'. */
  span?: string;
}

export function isExchange(name: string): name is ExchangeName {
  return (EXCHANGES as readonly string[]).includes(name);
}

export function parseExchange(name: string, field = 'exchange'): ExchangeName {
  const n = name.trim().toLowerCase();
  if (!isExchange(n)) throw new ValidationError(field, `unknown exchange '${name}' (known: ${EXCHANGES.join(', ')})`);
  return n;
}

export function parseKind(kind: string, field = 'kind'): Kind {
  if (!(KINDS as readonly string[]).includes(kind)) {
    throw new ValidationError(field, `unknown kind '${kind}' (known: ${KINDS.join(', ')})`);
  }
  return kind as Kind;
}

// ---- symbols ---------------------------------------------------------------------------

const ASSET = /^[A-Z0-9]{1,20}$/;
/** Strict pattern a unified symbol must match before it touches a path. */
export const UNIFIED_SYMBOL = /^[A-Z0-9]{1,20}\/[A-Z0-9]{1,20}$/;

/** Parses BASE/QUOTE, BASE-QUOTE or BASE_QUOTE (any case) into the unified 'BASE/QUOTE'. */
export function parseSeparatedSymbol(raw: string, field = 'symbol'): string | undefined {
  const parts = raw.trim().toUpperCase().split(/[/\-_]/);
  if (parts.length !== 2) return undefined;
  const [base, quote] = parts as [string, string];
  if (!ASSET.test(base) || !ASSET.test(quote)) {
    throw new ValidationError(field, `'${raw}' has characters other than letters and digits`);
  }
  return `${base}/${quote}`;
}

/** The symbol as it appears in paths and workflow ids: BTC-USDT. */
export function symbolSlug(unified: string): string {
  if (!UNIFIED_SYMBOL.test(unified)) throw new ValidationError('symbol', `'${unified}' is not a unified BASE/QUOTE symbol`);
  return unified.replace('/', '-');
}

// ---- spans -----------------------------------------------------------------------------

const SPAN = /^(\d{1,3})(s|m|h|d|w|M)$/;
const UNIT_NS: Record<string, bigint> = {
  s: NS_PER_S,
  m: 60n * NS_PER_S,
  h: 3600n * NS_PER_S,
  d: 86_400n * NS_PER_S,
  w: 7n * 86_400n * NS_PER_S,
};

export function parseSpan(span: string, field = 'span'): string {
  const m = SPAN.exec(span.trim());
  if (!m || Number(m[1]) === 0) {
    throw new ValidationError(field, `'${span}' is not a span (a count and a unit: s, m, h, d, w or M, e.g. 1m, 4h, 1M)`);
  }
  return `${Number(m[1])}${m[2]}`;
}

/** Fixed length of a span in ns; undefined for calendar months ('1M'), which vary. */
export function spanNs(span: string): bigint | undefined {
  const m = SPAN.exec(span);
  if (!m) throw new ValidationError('span', `'${span}' is not a span`);
  const unit = UNIT_NS[m[2]!];
  return unit === undefined ? undefined : BigInt(m[1]!) * unit;
}

/** End (exclusive) of the candle that opens at `openNs`; handles calendar months. */
export function spanEnd(openNs: bigint, span: string): bigint {
  const fixed = spanNs(span);
  if (fixed !== undefined) return openNs + fixed;
  const months = Number(SPAN.exec(span)![1]);
  const d = new Date(Number(openNs / 1_000_000n));
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1);
  return BigInt(next) * 1_000_000n;
}

/** Approximate length of a span in ns (a month counts as 30 days); for sizing only. */
export function spanApproxNs(span: string): bigint {
  return spanNs(span) ?? BigInt(Number(SPAN.exec(span)![1])) * 30n * 86_400n * NS_PER_S;
}

// ---- datasets --------------------------------------------------------------------------

/** The dataset folder name for a target's kind: 'ohlc-1m', 'trades', 'book'. */
export function datasetKind(t: Pick<Target, 'kind' | 'span'>): string {
  return t.kind === 'ohlc' ? `ohlc-${t.span}` : t.kind;
}

/** 'ohlc-1m' → { kind: 'ohlc', span: '1m' }; 'trades' → { kind: 'trades' }. */
export function parseDatasetKind(text: string, field = 'kind'): Pick<Target, 'kind' | 'span'> {
  const m = /^ohlc-(.+)$/.exec(text);
  if (m) return { kind: 'ohlc', span: parseSpan(m[1]!, field) };
  if (text === 'trades' || text === 'book') return { kind: text };
  throw new ValidationError(field, `'${text}' is not a dataset kind (ohlc-<span>, trades or book)`);
}

/** exchange/kind/SYMBOL: the dataset's identity, used for workflow and manifest ids. */
export function datasetId(t: Target): string {
  return datasetIdOf(t.exchange, datasetKind(t), symbolSlug(t.symbol));
}

/** The same id from its parts as folder names hold them: ('binance', 'ohlc-1m', 'BTC-USDT'). */
export const datasetIdOf = (exchange: string, kind: string, slug: string): string => `${exchange}/${kind}/${slug}`;

/** Checks the shape rules that hold for every exchange: span present exactly for ohlc. */
export function checkTarget(t: Target): Target {
  if (t.kind === 'ohlc') {
    if (!t.span) throw new ValidationError('span', 'required for kind ohlc');
    return { ...t, span: parseSpan(t.span) };
  }
  if (t.span) throw new ValidationError('span', `only applies to kind ohlc, not ${t.kind}`);
  return { exchange: t.exchange, symbol: t.symbol, kind: t.kind };
}
