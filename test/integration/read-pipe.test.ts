// `dccd read … | head`: a reader that stops early closes the pipe, which ends the output
// quietly with exit 0, as for any Unix tool (it used to end with `error: write EPIPE`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NS_PER_MIN, parseAbsoluteTime } from '../../src/domain/time.ts';
import { ParquetStore } from '../../src/storage/parquet-store.ts';
import { DCCD_BIN } from '../helpers/dccd-process.ts';

test('a read whose reader closes the pipe early exits 0 and prints nothing on stderr', async (t) => {
  const data = mkdtempSync(join(tmpdir(), 'dccd-read-pipe-'));
  t.after(() => rmSync(data, { recursive: true, force: true }));
  const store = new ParquetStore(data);
  const t0 = parseAbsoluteTime('2024-01-01', 't');
  const n = 100_000; // some 8 MB of CSV: far past what a pipe buffers
  const candles = Array.from({ length: n }, (_, i) => ({ ts: t0 + BigInt(i) * NS_PER_MIN, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10, quoteVolume: 15, trades: 3 }));
  await store.write({ exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' }, candles, { startNs: t0, endNs: t0 + BigInt(n) * NS_PER_MIN }, { source: 'binance:rest', adapterVersion: 'test/1' });
  await store.close();

  for (const format of ['csv', 'json', 'jsonl', 'arrow']) {
    const child = spawn(process.execPath, [DCCD_BIN, 'read', 'binance', 'BTCUSDT', '--kind', 'ohlc', '--span', '1m', '--format', format], {
      env: { ...process.env, DCCD_DATA: data },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Like `head -1`: take the first chunk, then close the pipe.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.deepEqual({ format, code, stderr }, { format, code: 0, stderr: '' });
  }
});
