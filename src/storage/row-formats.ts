// Streamed rows (ParquetStore.stream) as bytes: CSV, JSON, JSON lines and the Arrow IPC
// stream, written a batch at a time to a Writable and waiting whenever it is full, so a read
// of any size holds one batch and one output buffer. In the text formats ts is ISO text and
// ts_ns its ns; in JSON ns and int64 values are strings, so no parser rounds them to a double.
import type { Writable } from 'node:stream';
import * as arrow from 'apache-arrow';
import type { Kind } from '../domain/target.ts';
import { isoFromNs } from '../domain/time.ts';
import type { ColumnBatch } from './column-batch.ts';
import { arrowSchema, toRecordBatch, valueAt } from './column-batch.ts';
import { KIND_COLUMNS } from './parquet-columns.ts';

export const ROW_FORMATS = ['csv', 'json', 'jsonl', 'arrow'] as const;
export type RowFormat = (typeof ROW_FORMATS)[number];

/**
 * Writes every batch of `batches` to `out` in `format`, and ends the iteration however the
 * writing ends (so a DuckDB connection behind it goes back at once). Returns the row count.
 * `out` is not ended: the caller decides what follows.
 */
export async function writeRows(format: RowFormat, kind: Kind, batches: AsyncIterable<ColumnBatch>, out: Writable): Promise<number> {
  const it = batches[Symbol.asyncIterator]();
  try {
    return format === 'arrow' ? await writeArrow(kind, it, out) : await writeText(TEXT_FORMATS[format], kind, it, out);
  } finally {
    await it.return?.();
  }
}

/** Writes `chunk`; when `out` is full, waits until it drains. Fails once `out` is closed or broken. */
export async function put(out: Writable, chunk: string | Uint8Array): Promise<void> {
  if (out.destroyed) throw out.errored ?? new Error('the output was closed');
  if (chunk.length > 0 && !out.write(chunk)) await drained(out);
}

/** Settles on 'drain', or fails on 'close' or 'error' (a closed reader never drains). */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = () => {
      out.off('drain', settle).off('close', settle).off('error', settle);
      if (out.destroyed) reject(out.errored ?? new Error('the output was closed'));
      else resolve();
    };
    out.on('drain', settle).on('close', settle).on('error', settle);
  });
}

async function* batchesOf(it: AsyncIterator<ColumnBatch>): AsyncGenerator<ColumnBatch> {
  for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
}

// ---- text ------------------------------------------------------------------------------------

type Value = string | number | bigint | boolean | null;

/** How rows become text: `head`, then each row's `row` text with `between` between them, then `tail`. */
interface TextFormat {
  head: (columns: string[]) => string;
  row: (ns: bigint, values: [string, Value][]) => string;
  between: string;
  tail: (rows: number) => string;
}

function jsonRow(ns: bigint, values: [string, Value][]): string {
  const row: Record<string, unknown> = { ts: isoFromNs(ns), ts_ns: String(ns) };
  for (const [n, v] of values) row[n] = typeof v === 'bigint' ? String(v) : v;
  return JSON.stringify(row);
}

function csvValue(v: Value): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

const TEXT_FORMATS: Record<Exclude<RowFormat, 'arrow'>, TextFormat> = {
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

/** Text is handed on in pieces of about this many characters. */
const TEXT_PIECE = 1 << 16;

async function writeText(format: TextFormat, kind: Kind, it: AsyncIterator<ColumnBatch>, out: Writable): Promise<number> {
  await put(out, format.head(KIND_COLUMNS[kind].map((c) => c.name).filter((n) => n !== 'ts')));
  let rows = 0;
  for await (const batch of batchesOf(it)) {
    const ts = batch.columns.find((c) => c.col.codec === 'ts')!.values as BigInt64Array;
    const others = batch.columns.filter((c) => c.col.codec !== 'ts');
    let piece = '';
    for (let i = 0; i < batch.length; i++, rows++) {
      if (rows > 0) piece += format.between;
      piece += format.row(ts[i]!, others.map((c) => [c.col.name, valueAt(c, i)]));
      if (piece.length > TEXT_PIECE) {
        await put(out, piece);
        piece = '';
      }
    }
    await put(out, piece);
  }
  await put(out, format.tail(rows));
  return rows;
}

// ---- Arrow IPC stream --------------------------------------------------------------------------

/** The stream's end-of-stream marker: continuation 0xFFFFFFFF, then a zero length. */
const EOS_BYTES = 8;

/**
 * The IPC stream as a schema message, one message per batch, and the end marker. apache-arrow's
 * writer buffers what it writes in a queue of its own, which knows no back-pressure; each
 * batch is encoded as a stream of its own instead, and its message cut out of it.
 */
async function writeArrow(kind: Kind, it: AsyncIterator<ColumnBatch>, out: Writable): Promise<number> {
  const schema = arrowSchema(kind);
  const encode = (rb?: arrow.RecordBatch): Uint8Array => {
    const w = new arrow.RecordBatchStreamWriter();
    w.reset(undefined, schema);
    if (rb) w.write(rb);
    w.close();
    return w.toUint8Array(true);
  };
  const empty = encode();
  const head = empty.length - EOS_BYTES;
  await put(out, empty.subarray(0, head));
  let rows = 0;
  for await (const batch of batchesOf(it)) {
    const bytes = encode(toRecordBatch(batch, schema));
    await put(out, bytes.subarray(head, bytes.length - EOS_BYTES));
    rows += batch.length;
  }
  await put(out, empty.subarray(head));
  return rows;
}
