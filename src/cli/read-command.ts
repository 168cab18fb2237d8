// `dccd read`: a range of a dataset back out of the store, as CSV, JSON, JSON lines or Parquet.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type * as arrow from 'apache-arrow';
import type { AppConfig } from '../config/app-config.ts';
import { checkDataFolder, checkOutFile } from '../config/path-checks.ts';
import { ValidationError } from '../domain/errors.ts';
import { checkTarget, datasetKind, parseExchange, parseKind, type Target } from '../domain/target.ts';
import { isoFromNs, parseAbsoluteTime } from '../domain/time.ts';
import { buildServices, type Services } from '../services.ts';
import type { ParquetStore } from '../storage/parquet-store.ts';

export interface ReadFlags {
  kind: string;
  span?: string;
  start?: string;
  end?: string;
  format: string;
  out?: string;
}

const FORMATS = ['csv', 'json', 'jsonl', 'parquet'] as const;

function readTarget(services: Services, exchange: string, symbol: string, f: ReadFlags): Target {
  const ex = parseExchange(exchange);
  const shaped = checkTarget({ exchange: ex, symbol, kind: parseKind(f.kind, '--kind'), ...(f.span && { span: f.span }) });
  return { ...shaped, symbol: services.adapter(ex).parseSymbol(symbol) };
}

export async function runRead(cfg: AppConfig, exchange: string, symbol: string, f: ReadFlags): Promise<void> {
  if (!(FORMATS as readonly string[]).includes(f.format)) throw new ValidationError('--format', `'${f.format}' is not one of ${FORMATS.join(', ')}`);
  if (f.format === 'parquet' && !f.out) throw new ValidationError('--out', 'required for --format parquet');
  const services = buildServices(cfg);
  const target = readTarget(services, exchange, symbol, f);
  const start = f.start === undefined ? undefined : parseAbsoluteTime(f.start, '--start');
  const end = f.end === undefined ? undefined : parseAbsoluteTime(f.end, '--end');
  if (start !== undefined && end !== undefined && end <= start) throw new ValidationError('--end', 'must be after --start (ranges are [start, end))');
  await checkDataFolder(cfg.data, { write: false });
  if (f.out) await checkOutFile(f.out, '--out');
  const store = services.store;
  try {
    if (f.format === 'parquet') return await store.exportParquet(target, f.out!, start, end);
    const table = await store.read(target, start, end);
    const format = TEXT_FORMATS[f.format as keyof typeof TEXT_FORMATS];
    await writeAtomically(f.out, (out) => writeRows(table, out, format));
    if (table.numRows === 0) process.stderr.write(`${await noRowsNote(store, target, start, end)}\n`);
  } finally {
    await services.close();
  }
}

/** `note: no rows in [start, end) for binance BTC/USDT ohlc-1m`, and what the dataset does hold. */
async function noRowsNote(store: ParquetStore, target: Target, start: bigint | undefined, end: bigint | undefined): Promise<string> {
  const range = start === undefined && end === undefined ? '' : ` in [${start === undefined ? '…' : isoFromNs(start)}, ${end === undefined ? '…' : isoFromNs(end)})`;
  const stats = await store.stats(target);
  const held = stats ? `its rows run from ${isoFromNs(stats.minTs)} to ${isoFromNs(stats.maxTs)}` : 'the dataset has no data at all';
  return `note: no rows${range} for ${target.exchange} ${target.symbol} ${datasetKind(target)}; ${held}`;
}

/** To a temp file renamed into place (never a half-written file), or to stdout. */
async function writeAtomically(path: string | undefined, fn: (out: Writable) => Promise<void>): Promise<void> {
  if (!path) return toStdout(fn);
  const tmp = `${path}.tmp-${process.pid}`;
  const out = createWriteStream(tmp);
  try {
    await fn(out);
    out.end();
    await once(out, 'finish');
    await rename(tmp, path);
  } catch (e) {
    out.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * To stdout. A reader that stops early (`dccd read … | head`) closes the pipe: that ends the
 * output, as it does for any Unix tool, instead of failing the command.
 */
async function toStdout(fn: (out: Writable) => Promise<void>): Promise<void> {
  const out = process.stdout;
  const closed = (e: NodeJS.ErrnoException) => e.code === 'EPIPE';
  let gone = false;
  const onError = (e: NodeJS.ErrnoException) => {
    if (closed(e)) gone = true;
  };
  out.on('error', onError);
  try {
    await fn(out);
  } catch (e) {
    if (!gone && !closed(e as NodeJS.ErrnoException)) throw e;
  } finally {
    out.off('error', onError);
  }
}

type Value = string | number | bigint | null;

/** How rows become text: `head`, then each row's `row` text with `between` between them, then `tail`. */
interface TextFormat {
  head: (columns: string[]) => string;
  row: (ns: bigint, values: [string, Value][]) => string;
  between: string;
  tail: (rows: number) => string;
}

/** ts as ISO text and ts_ns as a string in every format, so nothing loses precision. */
function jsonRow(ns: bigint, values: [string, Value][]): string {
  const row: Record<string, unknown> = { ts: isoFromNs(ns), ts_ns: String(ns) };
  for (const [n, v] of values) row[n] = typeof v === 'bigint' ? Number(v) : v;
  return JSON.stringify(row);
}

const TEXT_FORMATS: Record<Exclude<(typeof FORMATS)[number], 'parquet'>, TextFormat> = {
  csv: {
    head: (columns) => `${['ts', 'ts_ns', ...columns].join(',')}\n`,
    row: (ns, values) => `${isoFromNs(ns)},${ns},${values.map(([, v]) => csvValue(v)).join(',')}\n`,
    between: '',
    tail: () => '',
  },
  // One document, an array, written a row at a time: a large read never becomes one string.
  json: { head: () => '[', row: (ns, values) => `\n${jsonRow(ns, values)}`, between: ',', tail: (rows) => (rows ? '\n]\n' : ']\n') },
  jsonl: { head: () => '', row: (ns, values) => `${jsonRow(ns, values)}\n`, between: '', tail: () => '' },
};

/**
 * Writes the table in `format`. Each row's ts is read from the column's int64 values (Arrow's
 * own accessor rounds ns timestamps to ms); the other columns by name.
 */
async function writeRows(table: arrow.Table, out: Writable, format: TextFormat): Promise<void> {
  await emit(out, format.head(table.schema.fields.map((f) => f.name).filter((n) => n !== 'ts')));
  let rows = 0;
  for (const batch of table.batches) {
    const ts = batch.getChild('ts')!.data[0]!;
    const tsValues = ts.values as BigInt64Array;
    const others = batch.schema.fields.map((f, ci) => [f.name, batch.getChildAt(ci)!] as const).filter(([n]) => n !== 'ts');
    let chunk = '';
    for (let i = 0; i < batch.numRows; i++, rows++) {
      if (rows > 0) chunk += format.between;
      chunk += format.row(tsValues[ts.offset + i]!, others.map(([n, v]) => [n, v.get(i) as Value]));
      if (chunk.length > 1 << 16) {
        await emit(out, chunk);
        chunk = '';
      }
    }
    await emit(out, chunk);
  }
  await emit(out, format.tail(rows));
}

async function emit(out: Writable, text: string): Promise<void> {
  if (out.destroyed) throw out.errored ?? new Error('the output was closed');
  if (text && !out.write(text)) await once(out, 'drain');
}

function csvValue(v: Value): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
