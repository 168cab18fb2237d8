// Rows held as one typed array per column: a query result, or rows on their way into the
// store (column-buffer.ts), and the batch's two outward forms: an Arrow table (ts as
// Timestamp(ns) with no time zone) and plain row objects. Values go straight from DuckDB's
// vectors into typed arrays; no per-row object is made unless rows are asked for.
import * as arrow from 'apache-arrow';
import type { DuckDBDataChunk, DuckDBVector } from '@duckdb/node-api';
import type { Kind } from '../domain/target.ts';
import type { RowsByKind } from '../domain/records.ts';
import type { Codec, Column } from './parquet-columns.ts';
import { KIND_COLUMNS } from './parquet-columns.ts';
import { allPresent, isPresent, setAbsent } from './validity.ts';

export type Values = BigInt64Array | Float64Array | Int32Array | Uint8Array | string[];

export interface ColumnData {
  col: Column;
  values: Values;
  /** Arrow validity bitmap (bit set = value present); undefined when nothing is null. */
  valid: Uint8Array | undefined;
  nullCount: number;
}

export interface ColumnBatch {
  kind: Kind;
  length: number;
  columns: ColumnData[];
}

export function allocate(codec: Codec, n: number): Values {
  switch (codec) {
    case 'ts':
    case 'i64':
    case 'big':
      return new BigInt64Array(n);
    case 'f64':
      return new Float64Array(n);
    case 'i32':
      return new Int32Array(n);
    case 'bool':
    case 'enum':
      return new Uint8Array(n);
    case 'str':
      return new Array<string>(n).fill('');
  }
}

/** Collects chunks of a result whose columns are readSelectSql(kind)'s, in their order. */
export function collectBatch(kind: Kind, chunks: readonly DuckDBDataChunk[]): ColumnBatch {
  const length = chunks.reduce((n, chunk) => n + chunk.rowCount, 0);
  const columns: ColumnData[] = KIND_COLUMNS[kind].map((col) => ({
    col,
    values: allocate(col.codec, length),
    valid: undefined,
    nullCount: 0,
  }));
  let offset = 0;
  for (const chunk of chunks) {
    columns.forEach((c, ci) => copyVector(chunk.getColumnVector(ci), c, offset, length));
    offset += chunk.rowCount;
  }
  return { kind, length, columns };
}

// One loop per array type keeps each element store monomorphic.
function copyVector(vector: DuckDBVector, c: ColumnData, offset: number, length: number): void {
  const n = vector.itemCount;
  const v = c.values;
  if (v instanceof BigInt64Array) {
    for (let j = 0; j < n; j++) {
      const x = vector.getItem(j) as bigint | null;
      if (x === null) markNull(c, offset + j, length);
      else v[offset + j] = x;
    }
  } else if (v instanceof Float64Array) {
    for (let j = 0; j < n; j++) {
      const x = vector.getItem(j) as number | null;
      if (x === null) markNull(c, offset + j, length);
      else v[offset + j] = x;
    }
  } else if (Array.isArray(v)) {
    for (let j = 0; j < n; j++) {
      const x = vector.getItem(j) as string | null;
      if (x === null) markNull(c, offset + j, length);
      else v[offset + j] = x;
    }
  } else if (c.col.codec === 'bool') {
    for (let j = 0; j < n; j++) {
      const x = vector.getItem(j) as boolean | null;
      if (x === null) markNull(c, offset + j, length);
      else v[offset + j] = x ? 1 : 0;
    }
  } else {
    for (let j = 0; j < n; j++) {
      const x = vector.getItem(j) as number | null;
      if (x === null) markNull(c, offset + j, length);
      else v[offset + j] = x;
    }
  }
}

function markNull(c: ColumnData, i: number, length: number): void {
  setAbsent((c.valid ??= allPresent(length)), i);
  c.nullCount++;
}

/** Row i of a column as its natural JS value: ns and int64 as bigint, a side as its text. */
export function valueAt(c: ColumnData, i: number): bigint | number | string | boolean | null {
  if (!isPresent(c.valid, i)) return null;
  if (c.col.codec === 'bool') return c.values[i] === 1;
  return c.col.codec === 'enum' ? c.col.values[c.values[i] as number]! : c.values[i]!;
}

// ---- Arrow -----------------------------------------------------------------------------------

function arrowType(codec: Codec): arrow.DataType {
  switch (codec) {
    case 'ts':
      return new arrow.TimestampNanosecond();
    case 'f64':
      return new arrow.Float64();
    case 'i64':
    case 'big':
      return new arrow.Int64();
    case 'i32':
      return new arrow.Int32();
    case 'bool':
      return new arrow.Bool();
    case 'str':
    case 'enum':
      return new arrow.Utf8();
  }
}

/** The Arrow schema of a kind: COLUMNS' names and types, nullable where COLUMNS says so. */
export const arrowSchema = (kind: Kind): arrow.Schema =>
  new arrow.Schema(KIND_COLUMNS[kind].map((c) => new arrow.Field(c.name, arrowType(c.codec), c.nullable)));

/** Offsets and bytes of a Utf8 column, encoding all strings in one go. */
function utf8(strings: readonly string[]): { valueOffsets: Int32Array; data: Uint8Array } {
  const joined = strings.join('');
  const data = Buffer.from(joined, 'utf8');
  const valueOffsets = new Int32Array(strings.length + 1);
  // Equal byte and code-unit counts mean every character is ASCII: offsets are lengths.
  const measure = data.length === joined.length ? (s: string) => s.length : (s: string) => Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < strings.length; i++) valueOffsets[i + 1] = valueOffsets[i]! + measure(strings[i]!);
  return { valueOffsets, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

function arrowData(c: ColumnData, length: number): arrow.Data {
  const base = { length, nullCount: c.nullCount, nullBitmap: c.valid };
  switch (c.col.codec) {
    case 'ts':
      return arrow.makeData({ ...base, type: new arrow.TimestampNanosecond(), data: c.values as BigInt64Array });
    case 'f64':
      return arrow.makeData({ ...base, type: new arrow.Float64(), data: c.values as Float64Array });
    case 'i64':
    case 'big':
      return arrow.makeData({ ...base, type: new arrow.Int64(), data: c.values as BigInt64Array });
    case 'i32':
      return arrow.makeData({ ...base, type: new arrow.Int32(), data: c.values as Int32Array });
    case 'bool':
      return arrow.makeData({ ...base, type: new arrow.Bool(), data: packBits(c.values as Uint8Array) });
    case 'str':
      return arrow.makeData({ ...base, type: new arrow.Utf8(), ...utf8(c.values as string[]) });
    case 'enum': {
      const names = c.col.values;
      return arrow.makeData({ ...base, type: new arrow.Utf8(), ...utf8(Array.from(c.values as Uint8Array, (code) => names[code]!)) });
    }
  }
}

/** One byte per value (0 or 1) as Arrow's bitmap of values, least significant bit first. */
function packBits(bytes: Uint8Array): Uint8Array {
  const bits = new Uint8Array(Math.ceil(bytes.length / 8));
  for (let i = 0; i < bytes.length; i++) if (bytes[i]) bits[i >> 3]! |= 1 << (i & 7);
  return bits;
}

/** The batch as one Arrow record batch of `schema` (arrowSchema(batch.kind), passed in so batches of one stream share it). */
export function toRecordBatch(batch: ColumnBatch, schema: arrow.Schema = arrowSchema(batch.kind)): arrow.RecordBatch {
  const children = batch.columns.map((c) => arrowData(c, batch.length));
  const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length: batch.length, nullCount: 0, children });
  return new arrow.RecordBatch(schema, data);
}

export function toArrowTable(batch: ColumnBatch): arrow.Table {
  const rb = toRecordBatch(batch);
  return new arrow.Table(rb.schema, rb);
}

// ---- rows ------------------------------------------------------------------------------------

export function toRows<K extends Kind>(batch: ColumnBatch & { kind: K }): RowsByKind[K][] {
  const rows = Array.from({ length: batch.length }, () => ({}) as Record<string, unknown>);
  for (const c of batch.columns) {
    const p = c.col.prop;
    const v = c.values;
    switch (c.col.codec) {
      case 'i64':
        for (let i = 0; i < rows.length; i++) rows[i]![p] = isPresent(c.valid, i) ? Number(v[i]) : null;
        break;
      case 'enum':
        for (let i = 0; i < rows.length; i++) rows[i]![p] = isPresent(c.valid, i) ? c.col.values[v[i] as number] : null;
        break;
      case 'bool':
        for (let i = 0; i < rows.length; i++) rows[i]![p] = isPresent(c.valid, i) ? v[i] === 1 : null;
        break;
      default:
        for (let i = 0; i < rows.length; i++) rows[i]![p] = isPresent(c.valid, i) ? v[i] : null;
    }
  }
  return rows as unknown as RowsByKind[K][];
}
