// `dccd read`: a range of a dataset back out of the store, as CSV, JSON lines or Parquet.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type * as arrow from 'apache-arrow';
import type { AppConfig } from '../config/app-config.ts';
import { ValidationError } from '../domain/errors.ts';
import { checkTarget, parseExchange, parseKind, type Target } from '../domain/target.ts';
import { isoFromNs, parseAbsoluteTime } from '../domain/time.ts';
import { buildServices, type Services } from '../services.ts';

export interface ReadFlags {
  kind: string;
  span?: string;
  start?: string;
  end?: string;
  format: string;
  out?: string;
}

const FORMATS = ['csv', 'json', 'parquet'] as const;

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
  const store = services.store;
  try {
    if (f.format === 'parquet') return await store.exportParquet(target, f.out!, start, end);
    const table = await store.read(target, start, end);
    await writeAtomically(f.out, (out) => (f.format === 'csv' ? writeCsv(table, out) : writeJsonLines(table, out)));
  } finally {
    await services.close();
  }
}

/** To a temp file renamed into place (never a half-written file), or to stdout. */
async function writeAtomically(path: string | undefined, fn: (out: Writable) => Promise<void>): Promise<void> {
  if (!path) return fn(process.stdout);
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

type Value = string | number | bigint | null;

/**
 * Writes one line per row. `line` gets the row's ts (read from the column's int64 values:
 * Arrow's own accessor rounds ns timestamps to ms) and the other columns by name.
 */
async function writeLines(table: arrow.Table, out: Writable, header: string | undefined, line: (ns: bigint, values: [string, Value][]) => string) {
  if (header) await emit(out, header);
  for (const batch of table.batches) {
    const ts = batch.getChild('ts')!.data[0]!;
    const tsValues = ts.values as BigInt64Array;
    const others = batch.schema.fields.map((f, ci) => [f.name, batch.getChildAt(ci)!] as const).filter(([n]) => n !== 'ts');
    let chunk = '';
    for (let i = 0; i < batch.numRows; i++) {
      chunk += line(tsValues[ts.offset + i]!, others.map(([n, v]) => [n, v.get(i) as Value]));
      if (chunk.length > 1 << 16) {
        await emit(out, chunk);
        chunk = '';
      }
    }
    await emit(out, chunk);
  }
}

async function emit(out: Writable, text: string): Promise<void> {
  if (text && !out.write(text)) await once(out, 'drain');
}

function writeCsv(table: arrow.Table, out: Writable): Promise<void> {
  const names = table.schema.fields.map((f) => f.name).filter((n) => n !== 'ts');
  return writeLines(table, out, `${['ts', 'ts_ns', ...names].join(',')}\n`, (ns, values) => `${isoFromNs(ns)},${ns},${values.map(([, v]) => csvValue(v)).join(',')}\n`);
}

function csvValue(v: Value): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One JSON object per line; ts as ISO text and as a ns string, so nothing loses precision. */
function writeJsonLines(table: arrow.Table, out: Writable): Promise<void> {
  return writeLines(table, out, undefined, (ns, values) => {
    const row: Record<string, unknown> = { ts: isoFromNs(ns), ts_ns: String(ns) };
    for (const [n, v] of values) row[n] = typeof v === 'bigint' ? Number(v) : v;
    return `${JSON.stringify(row)}\n`;
  });
}
