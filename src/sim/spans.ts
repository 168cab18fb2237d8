// Candle calendars in UTC milliseconds: where a candle of a span opens and where the next
// one opens. Fixed spans are aligned to the Unix epoch (as Binance aligns 3d candles), weeks
// open on Monday 00:00 and months on the 1st at 00:00.
import { ValidationError } from '../domain/errors.ts';

export interface SpanCalendar {
  readonly span: string;
  /** Open time of the candle that contains `ms`. */
  floor(ms: number): number;
  /** Open time of the candle after the one that opens at `openMs`. */
  next(openMs: number): number;
  /** Open time of the candle before the one that opens at `openMs`. */
  prev(openMs: number): number;
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
/** 1970-01-05, the first Monday after the epoch. */
const FIRST_MONDAY_MS = 4 * 86_400_000;

export function spanCalendar(span: string): SpanCalendar {
  const m = /^(\d{1,3})([smhdwM])$/.exec(span);
  if (!m || Number(m[1]) === 0) throw new ValidationError('span', `'${span}' is not a span such as 1m, 4h or 1M`);
  const count = Number(m[1]);
  const unit = m[2]!;
  if (unit === 'M') return monthCalendar(span, count);
  const len = count * UNIT_MS[unit]!;
  const anchor = unit === 'w' ? FIRST_MONDAY_MS : 0;
  return {
    span,
    floor: (ms) => Math.floor((ms - anchor) / len) * len + anchor,
    next: (openMs) => openMs + len,
    prev: (openMs) => openMs - len,
  };
}

function monthCalendar(span: string, count: number): SpanCalendar {
  const monthIndex = (ms: number) => {
    const d = new Date(ms);
    return d.getUTCFullYear() * 12 + d.getUTCMonth();
  };
  const startOf = (index: number) => Date.UTC(Math.floor(index / 12), index % 12, 1);
  return {
    span,
    floor: (ms) => {
      const i = monthIndex(ms);
      return startOf(i - (((i - 1970 * 12) % count) + count) % count);
    },
    next: (openMs) => startOf(monthIndex(openMs) + count),
    prev: (openMs) => startOf(monthIndex(openMs) - count),
  };
}
