import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NoCapability } from '../../src/domain/errors.ts';
import { EXCHANGES } from '../../src/domain/target.ts';
import { BinanceAdapter } from '../../src/sources/binance.ts';
import { ADAPTERS, createAdapter, implementedExchanges } from '../../src/sources/registry.ts';
import { servedCapabilities, streamedKinds } from '../../src/jobs/capabilities.ts';

test('binance is implemented and builds an adapter that names itself and its version', () => {
  assert.deepEqual(implementedExchanges(), ['binance']);
  const a = createAdapter('binance', { restUrl: 'http://127.0.0.1:9/binance' });
  assert.ok(a instanceof BinanceAdapter);
  assert.equal(a.name, 'binance');
  assert.equal(a.version, 'binance-rest/1');
  assert.equal(a.capabilities.docs, 'https://developers.binance.com/docs/binance-spot-api-docs/rest-api');
});

test('a known venue without an adapter fails with NoCapability', () => {
  assert.throws(
    () => createAdapter('kraken'),
    (err) => err instanceof NoCapability && err.message === 'kraken: not implemented yet (implemented: binance)',
  );
});

test('every registered adapter is a known exchange and reports its own name', () => {
  for (const name of Object.keys(ADAPTERS)) {
    assert.ok((EXCHANGES as readonly string[]).includes(name));
    assert.equal(createAdapter(name as (typeof EXCHANGES)[number]).name, name);
  }
});

test('binance declares 1000-row pages of klines and aggregate trades, and books up to 5000 levels', () => {
  const caps = createAdapter('binance').capabilities;
  assert.equal(caps.backfill.ohlc?.pageLimit, 1000);
  assert.equal(caps.backfill.ohlc?.depth, 'full');
  assert.deepEqual(caps.backfill.ohlc?.spans, ['1s', '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M']);
  assert.equal(caps.backfill.trades?.pageLimit, 1000);
  assert.equal(caps.backfill.book?.maxDepth, 5000);
  assert.deepEqual(Object.keys(caps.stream).sort(), ['book', 'ohlc', 'trades']);
});

test('the capability table lists the live streams this dccd runs: the kinds the adapter streams, not every kind the venue offers', () => {
  const adapter = createAdapter('binance');
  assert.deepEqual(streamedKinds(adapter), ['ohlc', 'trades', 'book']);
  // An adapter without a stream the venue offers: the table leaves that kind out.
  const partial = Object.assign(Object.create(adapter) as typeof adapter, { streams: { trades: adapter.streams!.trades } });
  const served = servedCapabilities(partial);
  assert.deepEqual(Object.keys(served.stream), ['trades']);
  assert.deepEqual(served.backfill, adapter.capabilities.backfill, 'history as the venue declares it');
});
