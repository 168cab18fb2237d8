// Time inside dccd is int64 nanoseconds since the Unix epoch, UTC (bigint). Every range is
// half-open, [start, end). Conversions happen only at the edges (inputs, display, exchanges).
import { ValidationError } from './errors.ts';

export const NS_PER_US = 1_000n;
export const NS_PER_MS = 1_000_000n;
export const NS_PER_S = 1_000_000_000n;
export const NS_PER_MIN = 60n * NS_PER_S;
export const NS_PER_HOUR = 60n * NS_PER_MIN;
export const NS_PER_DAY = 24n * NS_PER_HOUR;

export const nsFromMs = (ms: number | bigint): bigint => BigInt(ms) * NS_PER_MS;
export const msFromNs = (ns: bigint): number => Number(ns / NS_PER_MS);
export const nsFromDate = (d: Date): bigint => nsFromMs(d.getTime());
export const nowNs = (): bigint => nsFromMs(Date.now());

/** ISO-8601 with all nine fractional digits: 2024-01-01T00:00:00.123456789Z. */
export function isoFromNs(ns: bigint): string {
  const ms = ns / NS_PER_MS - (ns % NS_PER_MS < 0n ? 1n : 0n);
  const frac = ns - ms * NS_PER_MS; // 0..999_999 below the millisecond
  const base = new Date(Number(ms)).toISOString(); // ...T00:00:00.123Z
  return `${base.slice(0, -1)}${frac.toString().padStart(6, '0')}Z`;
}

/** UTC calendar day of a ns timestamp, 'YYYY-MM-DD'. */
export function dayOf(ns: bigint): string {
  return isoFromNs(ns).slice(0, 10);
}

export type TimeInput = { kind: 'last' } | { kind: 'origin' } | { kind: 'ns'; ns: bigint };

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses a user's time: 'last', 'origin', an integer of nanoseconds, an ISO date (its
 * midnight UTC) or an ISO date-time (UTC unless it names an offset), to the nanosecond.
 */
export function parseTimeInput(value: string | number | bigint, field: string): TimeInput {
  if (typeof value === 'bigint') return { kind: 'ns', ns: value };
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new ValidationError(field, `${value} is not an integer of nanoseconds`);
    return { kind: 'ns', ns: BigInt(value) };
  }
  const s = value.trim();
  if (s === 'last' || s === 'origin') return { kind: s };
  if (/^-?\d+$/.test(s)) return { kind: 'ns', ns: BigInt(s) };
  if (DATE_ONLY.test(s)) return { kind: 'ns', ns: dateToNs(s, field) };
  const m = DATE_TIME.exec(s);
  if (m) {
    const [, date, hh, mm, ss = '00', frac = '', zone = 'Z'] = m;
    const base = Date.parse(`${date}T${hh}:${mm}:${ss}${zone === 'Z' ? 'Z' : normalizeOffset(zone!)}`);
    if (Number.isNaN(base) || !isRealDate(date!)) throw new ValidationError(field, `'${s}' is not a valid date-time`);
    return { kind: 'ns', ns: nsFromMs(base) + BigInt(frac.padEnd(9, '0')) };
  }
  throw new ValidationError(field, `'${s}' is not a date (YYYY-MM-DD), an ISO date-time, an integer of ns, 'last' or 'origin'`);
}

/** Like parseTimeInput, but only an absolute time is acceptable. */
export function parseAbsoluteTime(value: string | number | bigint, field: string): bigint {
  const t = parseTimeInput(value, field);
  if (t.kind !== 'ns') throw new ValidationError(field, `'${t.kind}' is not allowed here; give a date or ns`);
  return t.ns;
}

function dateToNs(s: string, field: string): bigint {
  if (!isRealDate(s)) throw new ValidationError(field, `'${s}' is not a valid date`);
  return nsFromMs(Date.parse(`${s}T00:00:00Z`));
}

function isRealDate(s: string): boolean {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

function normalizeOffset(z: string): string {
  return z.includes(':') ? z : `${z.slice(0, 3)}:${z.slice(3)}`;
}
