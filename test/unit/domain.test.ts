import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/domain/errors.ts';
import { checkTarget, datasetId, parseSeparatedSymbol, parseSpan, spanEnd, symbolSlug } from '../../src/domain/target.ts';
import { dayOf, isoFromNs, MAX_NS, NS_PER_DAY, parseAbsoluteTime, parseTimeInput } from '../../src/domain/time.ts';
import { planWindows, windowLengthNs } from '../../src/domain/windows.ts';

const ns = (iso: string) => parseAbsoluteTime(iso, 't');

test('times parse to ns: a date is its midnight UTC, date-times keep all nine digits and offsets', () => {
  assert.equal(ns('2024-01-01'), 1_704_067_200_000_000_000n);
  assert.equal(ns('2024-01-01T00:00:00.123456789Z'), 1_704_067_200_123_456_789n);
  assert.equal(ns('2024-01-01T01:00:00+01:00'), 1_704_067_200_000_000_000n);
  assert.equal(ns('1704067200000000000'), 1_704_067_200_000_000_000n);
  assert.deepEqual(parseTimeInput('last', 'start'), { kind: 'last' });
  assert.deepEqual(parseTimeInput('origin', 'start'), { kind: 'origin' });
});

test('bad times name the field and the reason', () => {
  assert.throws(() => parseTimeInput('2024-02-30', 'start'), (e: unknown) => e instanceof ValidationError && e.message === "start: '2024-02-30' is not a valid date");
  assert.throws(() => parseAbsoluteTime('last', 'end'), /end: 'last' is not allowed here/);
  assert.throws(() => parseTimeInput('soon', 'start'), /^ValidationError|start: 'soon' is not a date/);
});

/** The message a time input is refused with. */
function refusal(value: string | number | bigint, field = 'start'): string {
  try {
    parseTimeInput(value, field);
  } catch (e) {
    assert.ok(e instanceof ValidationError, String(e));
    assert.equal(e.field, field);
    return e.message;
  }
  return assert.fail(`${value} was accepted`);
}

test('negative times are refused, as integers and as dates before 1970', () => {
  assert.equal(refusal('-5'), 'start: -5 is negative; times are ns since 1970-01-01T00:00:00Z');
  assert.equal(refusal(-1n), 'start: -1 is negative; times are ns since 1970-01-01T00:00:00Z');
  assert.equal(refusal('1969-12-31'), "start: '1969-12-31' is before 1970-01-01T00:00:00Z; times are ns since then, never negative");
  assert.equal(refusal('1970-01-01T00:30:00+01:00', 'end'), "end: '1970-01-01T00:30:00+01:00' is before 1970-01-01T00:00:00Z; times are ns since then, never negative");
});

test('integers that are seconds, milliseconds or microseconds are refused with their value in ns', () => {
  assert.equal(refusal('1704067200'), 'start: 1704067200 looks like seconds; in ns that is 1704067200000000000 (2024-01-01T00:00:00Z)');
  assert.equal(refusal(1704067200), 'start: 1704067200 looks like seconds; in ns that is 1704067200000000000 (2024-01-01T00:00:00Z)');
  assert.equal(refusal('1704067200123'), 'start: 1704067200123 looks like milliseconds; in ns that is 1704067200123000000 (2024-01-01T00:00:00.123Z)');
  assert.equal(refusal('1704067200123456'), 'start: 1704067200123456 looks like microseconds; in ns that is 1704067200123456000 (2024-01-01T00:00:00.123456Z)');
  // The unit bounds: 10^8 s, 10^11 ms and 10^14 µs are each 10^17 ns (1973-03-03).
  assert.match(refusal('100000000'), /100000000 looks like seconds; .* \(1973-03-03T09:46:40Z\)$/);
  assert.match(refusal('99999999999'), /looks like seconds; in ns that is 99999999999000000000 \(beyond int64 ns\)$/);
  assert.match(refusal('100000000000'), /looks like milliseconds; .* \(1973-03-03T09:46:40Z\)$/);
  assert.match(refusal('100000000000000'), /looks like microseconds; .* \(1973-03-03T09:46:40Z\)$/);
  assert.equal(refusal('0'), "start: 0 ns is 1970-01-01T00:00:00Z, decades before any market data; give a date, a date-time or 'origin'");
  assert.equal(ns('100000000000000000'), 10n ** 17n);
});

test('times beyond int64 ns are refused, and every accepted time formats back to ISO', () => {
  assert.equal(refusal('9223372036854775808'), 'start: 9223372036854775808 is beyond 2262-04-11T23:47:16.854775807Z, the last instant int64 ns can hold');
  assert.match(refusal('99999999999999999999999'), /^start: 99999999999999999999999 is beyond 2262-04-11T23:47:16\.854775807Z/);
  assert.equal(refusal('2262-04-12'), "start: '2262-04-12' is after 2262-04-11T23:47:16.854775807Z, the last instant int64 ns can hold");
  assert.match(refusal('2262-04-11T23:47:16.854775808Z'), /is after 2262-04-11T23:47:16\.854775807Z/);
  assert.equal(ns('9223372036854775807'), MAX_NS);
  assert.equal(ns('2262-04-11T23:47:16.854775807Z'), MAX_NS);
  assert.equal(isoFromNs(MAX_NS), '2262-04-11T23:47:16.854775807Z');
});

test('dates with years out of range are refused, not misread', () => {
  assert.equal(refusal('99999-01-01'), "start: '99999-01-01' is after 2262-04-11T23:47:16.854775807Z, the last instant int64 ns can hold");
  assert.equal(refusal('99999-01-01T00:00:00Z'), "start: '99999-01-01T00:00:00Z' is after 2262-04-11T23:47:16.854775807Z, the last instant int64 ns can hold");
  assert.equal(refusal('0000-01-01'), "start: '0000-01-01' is before 1970-01-01T00:00:00Z; times are ns since then, never negative");
  assert.equal(refusal('2024-02-30T00:00:00Z'), "start: '2024-02-30T00:00:00Z' is not a valid date-time");
});

test('ns format back to ISO with nine fractional digits, also before 1970', () => {
  assert.equal(isoFromNs(1_704_067_200_123_456_789n), '2024-01-01T00:00:00.123456789Z');
  assert.equal(isoFromNs(-1n), '1969-12-31T23:59:59.999999999Z');
  assert.equal(dayOf(1_704_067_200_123_456_789n), '2024-01-01');
});

test('symbols: separated forms unify to BASE/QUOTE and slugs are path-safe', () => {
  assert.equal(parseSeparatedSymbol('btc-usdt'), 'BTC/USDT');
  assert.equal(parseSeparatedSymbol('BTC_USDT'), 'BTC/USDT');
  assert.equal(parseSeparatedSymbol('BTCUSDT'), undefined);
  assert.throws(() => parseSeparatedSymbol('BTC/..'), ValidationError);
  assert.throws(() => parseSeparatedSymbol('B$C/USDT'), /symbol: 'B\$C\/USDT' has characters/);
  assert.equal(symbolSlug('BTC/USDT'), 'BTC-USDT');
  assert.throws(() => symbolSlug('../x'), ValidationError);
});

test('spans: parsed strictly; calendar months end on the next month', () => {
  assert.equal(parseSpan('1m'), '1m');
  assert.equal(parseSpan('01h'), '1h');
  assert.throws(() => parseSpan('7x'), /span: '7x' is not a span/);
  assert.equal(spanEnd(ns('2024-01-31'), '1d'), ns('2024-02-01'));
  assert.equal(spanEnd(ns('2024-01-01'), '1M'), ns('2024-02-01'));
  assert.equal(spanEnd(ns('2024-12-01'), '1M'), ns('2025-01-01'));
});

test('targets: span required exactly for ohlc; dataset ids name exchange, kind and symbol', () => {
  assert.throws(() => checkTarget({ exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc' }), /span: required for kind ohlc/);
  assert.throws(() => checkTarget({ exchange: 'binance', symbol: 'BTC/USDT', kind: 'book', span: '1m' }), /span: only applies to kind ohlc, not book/);
  assert.equal(datasetId({ exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' }), 'binance/ohlc-1m/BTC-USDT');
});

test('windows tile [start, end) exactly, aligned to the window length', () => {
  const len = NS_PER_DAY;
  const plan = planWindows(ns('2024-01-01T12:00:00Z'), ns('2024-01-04T06:00:00Z'), len);
  const all = Array.from({ length: plan.count }, (_, i) => plan.window(i).map((x) => isoFromNs(x).slice(0, 19)));
  assert.deepEqual(all, [
    ['2024-01-01T12:00:00', '2024-01-02T00:00:00'],
    ['2024-01-02T00:00:00', '2024-01-03T00:00:00'],
    ['2024-01-03T00:00:00', '2024-01-04T00:00:00'],
    ['2024-01-04T00:00:00', '2024-01-04T06:00:00'],
  ]);
  assert.equal(planWindows(ns('2024-01-01'), ns('2024-01-02'), len).count, 1);
  assert.equal(planWindows(ns('2024-01-02'), ns('2024-01-01'), len).count, 0);
});

test('candle windows hold about ten pages, in whole days or hours', () => {
  const t = (span: string) => ({ exchange: 'binance' as const, symbol: 'BTC/USDT', kind: 'ohlc' as const, span });
  assert.equal(windowLengthNs(t('1m'), 1000), 6n * NS_PER_DAY);
  assert.equal(windowLengthNs(t('1s'), 1000), 2n * 3_600_000_000_000n);
  assert.equal(windowLengthNs(t('1d'), 1000), 366n * NS_PER_DAY);
  assert.equal(windowLengthNs({ exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' }, 1000), NS_PER_DAY);
});
