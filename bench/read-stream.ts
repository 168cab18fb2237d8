// Streamed reads: peak memory and rows/s of GET /api/read over a few million trades, as Arrow
// and as JSON, against store.read() materialising the same range as one Arrow table (what
// `dccd read` did before it streamed). Each case runs in a process of its own, so each peak
// RSS (VmHWM, read by the process itself at its end) is that case's alone.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { RecordBatchReader } from 'apache-arrow';
import { buildApi, listenApi } from '../src/api/server.ts';
import { parseConfig } from '../src/config/load-config.ts';
import { NS_PER_DAY } from '../src/domain/time.ts';
import { buildServices } from '../src/services.ts';
import { ParquetStore } from '../src/storage/parquet-store.ts';
import { DAY0, PROV, makeTrades } from '../test/helpers/store-fixtures.ts';
import { median, report, RUNS, tempDir } from './lib.ts';
import { runMeasured } from './processes.ts';

const BENCH = 'read-stream';
const TARGET = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' } as const;
const ROWS = Number(process.env.BENCH_ROWS ?? 3_000_000);
const DAYS = 3;
/** `api arrow, day 1`: the first of the three days, to show the peak does not grow with the range. */
const CASES = ['store.read()', 'api arrow', 'api json', 'api arrow, day 1'] as const;
type Case = (typeof CASES)[number];

interface Outcome {
  rows: number;
  ms: number;
  bytes: number;
  peakKb: number;
}

async function ownPeakKb(): Promise<number> {
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(await readFile('/proc/self/status', 'utf8'))![1]);
}

/** One case, in this process: the read, timed from the first request to the last byte. */
async function runCase(c: Case, data: string): Promise<Outcome> {
  const services = buildServices(parseConfig({ data }));
  try {
    if (c === 'store.read()') {
      const t0 = performance.now();
      const table = await services.store.read(TARGET);
      return { rows: table.numRows, ms: performance.now() - t0, bytes: 0, peakKb: await ownPeakKb() };
    }
    const app = await buildApi({ services });
    try {
      const url = await listenApi(app, '127.0.0.1', 0);
      const format = c === 'api json' ? 'json' : 'arrow';
      const range = c === 'api arrow, day 1' ? `&end=${DAY0 + NS_PER_DAY}` : '';
      const t0 = performance.now();
      const res = await fetch(`${url}/api/read?exchange=binance&symbol=BTCUSDT&kind=trades&format=${format}${range}`);
      let bytes = 0;
      let newlines = 0;
      async function* counted(): AsyncGenerator<Uint8Array> {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          bytes += chunk.length;
          if (format === 'json') for (const b of chunk) if (b === 10) newlines++;
          yield chunk;
        }
      }
      let rows = 0;
      // The client's share: Arrow batches decoded as they come; JSON rows counted by line.
      if (format === 'arrow') for await (const batch of await RecordBatchReader.from(counted())) rows += batch.numRows;
      else for await (const _ of counted()); // '[', then each row on a line of its own, then ']'
      if (format === 'json') rows = newlines - 2;
      return { rows, ms: performance.now() - t0, bytes, peakKb: await ownPeakKb() };
    } finally {
      await app.close();
    }
  } finally {
    await services.close();
  }
}

const SELF = fileURLToPath(import.meta.url);

if (process.argv[2] === '--case') {
  console.log(`OUTCOME ${JSON.stringify(await runCase(process.argv[3] as Case, process.argv[4]!))}`);
} else {
  const data = tempDir('read-stream');
  try {
    const store = new ParquetStore(data.path);
    const perDay = ROWS / DAYS;
    for (let d = 0; d < DAYS; d++) {
      const startNs = DAY0 + BigInt(d) * NS_PER_DAY;
      await store.write(TARGET, makeTrades(perDay, startNs, NS_PER_DAY, d + 1, 1_000_000 + d * perDay), { startNs, endNs: startNs + NS_PER_DAY }, PROV);
    }
    await store.close();
    const outcomes = new Map<Case, Outcome[]>(CASES.map((c) => [c, []]));
    // The cases take turns, run by run, so a slow spell of the machine is shared among them.
    for (let run = 0; run < RUNS; run++) {
      for (const c of CASES) {
        const r = await runMeasured(process.execPath, ['--import', 'tsx', SELF, '--case', c, data.path]);
        const line = r.output.split('\n').find((l) => l.startsWith('OUTCOME '));
        if (!line) throw new Error(`${c}: no outcome\n${r.output.slice(-2000)}`);
        const o = JSON.parse(line.slice(8)) as Outcome;
        const expected = c === 'api arrow, day 1' ? ROWS / DAYS : ROWS;
        if (o.rows !== expected) throw new Error(`${c}: ${o.rows} rows, not ${expected}`);
        outcomes.get(c)!.push(o);
      }
    }
    const med = (c: Case, f: (o: Outcome) => number) => median(outcomes.get(c)!.map(f));
    const rowsPerS = (o: Outcome) => (o.rows * 1000) / o.ms;
    const baseline = (f: (o: Outcome) => number) => ({ name: 'store.read() to one Arrow table', value: med('store.read()', f) });
    for (const c of ['api arrow', 'api json'] as const) {
      const mb = med(c, (o) => o.bytes) / 1e6;
      report({ bench: BENCH, name: `GET /api/read ${c.slice(4)}: peak RSS`, value: med(c, (o) => o.peakKb) / 1024, unit: 'MiB', baseline: baseline((o) => o.peakKb / 1024), note: `${ROWS.toLocaleString('en-US')} trades, ${mb.toFixed(0)} MB sent; median of ${RUNS}` });
      report({ bench: BENCH, name: `GET /api/read ${c.slice(4)}: rows/s to the client`, value: med(c, rowsPerS), unit: 'rows/s', baseline: baseline(rowsPerS), note: `median of ${RUNS}` });
    }
    report({
      bench: BENCH,
      name: `GET /api/read arrow: peak RSS over ${DAYS} days`,
      value: med('api arrow', (o) => o.peakKb) / 1024,
      unit: 'MiB',
      baseline: { name: 'the same over its first day', value: med('api arrow, day 1', (o) => o.peakKb) / 1024 },
      note: `a ratio near 1: memory does not grow with the range`,
    });
  } finally {
    data.remove();
  }
}
