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

const DURATION = /^(\d{1,12})(s|m|h|d)$/;
const DURATION_UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration as the config writes it ('30s', '15m', '1h', '1d'), in ms; undefined for any other text. */
export function durationMs(text: string): number | undefined {
  const m = DURATION.exec(text);
  return m ? Number(m[1]) * DURATION_UNIT_MS[m[2]!]! : undefined;
}

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

/** The last instant an int64 of ns can hold; times run from the epoch (0) to here. */
export const MAX_NS = 2n ** 63n - 1n;

/**
 * An integer below 10^17 ns (1973-03-03) is no time of market data, which starts after
 * 2009, but fits exactly one smaller unit: 10^11 s, 10^14 ms and 10^17 µs are each the year
 * 5138, so [10^8, 10^11) reads as seconds, [10^11, 10^14) as ms and [10^14, 10^17) as µs,
 * every one of them a date from 1973 on. Refusing these catches the commonest slip.
 */
const MIN_PLAUSIBLE_NS = 10n ** 17n;
const SMALLER_UNITS = [
  ['microseconds', NS_PER_US],
  ['milliseconds', NS_PER_MS],
  ['seconds', NS_PER_S],
] as const;

const DATE_ONLY = /^\d{4,}-\d{2}-\d{2}$/;
const DATE_TIME = /^(\d{4,}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses a user's time: 'last', 'origin', an integer of nanoseconds, an ISO date (its
 * midnight UTC) or an ISO date-time (UTC unless it names an offset), to the nanosecond.
 * Every time given is an instant in [1970-01-01, MAX_NS]; integers must also look like ns.
 */
export function parseTimeInput(value: string | number | bigint, field: string): TimeInput {
  if (typeof value === 'bigint') return { kind: 'ns', ns: checkNsInteger(value, field) };
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new ValidationError(field, `${value} is not an integer of nanoseconds`);
    return { kind: 'ns', ns: checkNsInteger(BigInt(value), field) };
  }
  const s = value.trim();
  if (s === 'last' || s === 'origin') return { kind: s };
  if (/^-?\d+$/.test(s)) return { kind: 'ns', ns: checkNsInteger(BigInt(s), field) };
  if (DATE_ONLY.test(s)) return { kind: 'ns', ns: checkInstant(midnightMs(s, s, field), 0n, s, field) };
  const m = DATE_TIME.exec(s);
  if (m) {
    const [, date, hh, mm, ss = '00', frac = '', zone = 'Z'] = m;
    midnightMs(date!, s, field); // refuses 2024-02-30, which Date.parse would roll over
    const base = Date.parse(`${date}T${hh}:${mm}:${ss}${zone === 'Z' ? 'Z' : normalizeOffset(zone!)}`);
    if (Number.isNaN(base)) throw new ValidationError(field, `'${s}' is not a valid date-time`);
    return { kind: 'ns', ns: checkInstant(base, BigInt(frac.padEnd(9, '0')), s, field) };
  }
  throw new ValidationError(field, `'${s}' is not a date (YYYY-MM-DD), an ISO date-time, an integer of ns, 'last' or 'origin'`);
}

/** Like parseTimeInput, but only an absolute time is acceptable. */
export function parseAbsoluteTime(value: string | number | bigint, field: string): bigint {
  const t = parseTimeInput(value, field);
  if (t.kind !== 'ns') throw new ValidationError(field, `'${t.kind}' is not allowed here; give a date or ns`);
  return t.ns;
}

function checkNsInteger(ns: bigint, field: string): bigint {
  if (ns < 0n) throw new ValidationError(field, `${ns} is negative; times are ns since 1970-01-01T00:00:00Z`);
  if (ns > MAX_NS) throw new ValidationError(field, `${ns} is beyond ${isoFromNs(MAX_NS)}, the last instant int64 ns can hold`);
  if (ns >= MIN_PLAUSIBLE_NS) return ns;
  const unit = SMALLER_UNITS.find(([, nsPer]) => ns * nsPer >= MIN_PLAUSIBLE_NS);
  if (!unit) throw new ValidationError(field, `${ns} ns is ${briefIso(ns)}, decades before any market data; give a date, a date-time or 'origin'`);
  const [name, nsPer] = unit;
  const asNs = ns * nsPer;
  const when = asNs <= MAX_NS ? briefIso(asNs) : 'beyond int64 ns';
  throw new ValidationError(field, `${ns} looks like ${name}; in ns that is ${asNs} (${when})`);
}

/** `ms` plus `extraNs` (a fraction of a second finer than a Date holds), refused outside [0, MAX_NS]. */
function checkInstant(ms: number, extraNs: bigint, text: string, field: string): bigint {
  const ns = nsFromMs(ms) + extraNs;
  if (ns < 0n) throw new ValidationError(field, `'${text}' is before 1970-01-01T00:00:00Z; times are ns since then, never negative`);
  if (ns > MAX_NS) throw tooLate(text, field);
  return ns;
}

/** Midnight UTC of a YYYY-MM-DD date, in ms; `text` is what the user wrote, for the message. */
function midnightMs(date: string, text: string, field: string): number {
  // A Date cannot parse years past 9999 written without a sign; they are out of range anyway.
  if (date.length > 10) throw tooLate(text, field);
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date) {
    throw new ValidationError(field, `'${text}' is not a valid ${text === date ? 'date' : 'date-time'}`);
  }
  return ms;
}

const tooLate = (text: string, field: string) =>
  new ValidationError(field, `'${text}' is after ${isoFromNs(MAX_NS)}, the last instant int64 ns can hold`);

/** ISO text without trailing zero digits: 2024-01-01T00:00:00Z, 2024-01-01T00:00:00.5Z. */
function briefIso(ns: bigint): string {
  return isoFromNs(ns).replace(/\.?0+Z$/, 'Z');
}

function normalizeOffset(z: string): string {
  return z.includes(':') ? z : `${z.slice(0, 3)}:${z.slice(3)}`;
}
