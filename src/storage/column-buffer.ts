// Rows of one kind gathered as columns until they are written. Each pushed row is taken
// apart at once into the typed arrays of a ColumnBatch, so the row objects die young: a
// buffer of row objects kept for seconds gets them promoted to the old space, where they
// pile up until a major GC (a 1 M-trade backfill's heap grew by ~130 MB that way).
import { ValidationError } from '../domain/errors.ts';
import type { RowsByKind } from '../domain/records.ts';
import type { Kind } from '../domain/target.ts';
import { allocate, type ColumnBatch, type ColumnData, type Values } from './column-batch.ts';
import type { Codec, Column } from './parquet-columns.ts';
import { KIND_COLUMNS } from './parquet-columns.ts';
import { allPresent, setAbsent } from './validity.ts';

/** Rows a buffer first makes room for; it doubles from there. */
const MIN_CAPACITY = 1024;

interface BufferColumn {
  col: Column;
  values: Values;
  /** One byte per row, 1 where the value is null; made at the column's first null. */
  nulls: Uint8Array | undefined;
}

/** What a value of each codec must be, for the error that names a wrong one. */
const EXPECTED: Record<Exclude<Codec, 'enum'>, string> = {
  ts: 'a bigint of ns',
  f64: 'a number',
  i64: 'an integer number',
  big: 'a bigint',
  i32: 'an integer number',
  bool: 'a boolean',
  str: 'a string',
};

/**
 * A growable columnar buffer of one kind's rows: push pages, read a row's ts, take the
 * first n rows as a batch. Rows live in [start, end) of arrays of `capacity`; a take copies
 * its rows out and moves start on, and the live rows move to the front only when the arrays
 * run out at the end with half of them free, so every row is copied a bounded number of times.
 */
export class ColumnBuffer<K extends Kind> {
  readonly #columns: BufferColumn[];
  /** The ts column's values (the first column of every kind). */
  #ts: BigInt64Array;
  #start = 0;
  #end = 0;
  #capacity = 0;

  constructor(
    readonly kind: K,
    capacity = 0,
  ) {
    this.#columns = KIND_COLUMNS[kind].map((col) => ({ col, values: allocate(col.codec, capacity), nulls: undefined }));
    this.#capacity = capacity;
    this.#ts = this.#columns[0]!.values as BigInt64Array;
  }

  get length(): number {
    return this.#end - this.#start;
  }

  /**
   * Appends rows, checking each value against its column: ts a bigint, an enum column (side)
   * one of its values, text (trade_id) text, numbers numbers, and null only where the column
   * is nullable. A bad value is a ValidationError naming `rows[i].<field>` (i: its index in
   * `rows`), and then nothing of `rows` is added.
   */
  push(rows: readonly RowsByKind[K][]): this {
    this.#reserve(rows.length);
    for (const c of this.#columns) fill(c, rows as unknown as ReadonlyArray<Record<string, unknown>>, this.#end, this.#capacity);
    this.#end += rows.length;
    return this;
  }

  /** The ts of row i (0: the oldest row still buffered). */
  tsAt(i: number): bigint {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`row ${i} of ${this.length}`);
    return this.#ts[this.#start + i]!;
  }

  /** Removes the first n rows and returns them as a batch. */
  take(n: number): ColumnBatch {
    if (!Number.isInteger(n) || n < 0 || n > this.length) throw new RangeError(`cannot take ${n} of ${this.length} rows`);
    const from = this.#start;
    const to = from + n;
    // Taking every row hands the arrays over (no copy) and starts afresh.
    const whole = n === this.length;
    const columns = this.#columns.map((c): ColumnData => ({ col: c.col, values: part(c.values, from, to, whole), ...validity(c.nulls, from, to) }));
    if (whole) this.#reset();
    else this.#start = to;
    return { kind: this.kind, length: n, columns };
  }

  #reset(): void {
    for (const c of this.#columns) {
      c.values = allocate(c.col.codec, 0);
      c.nulls = undefined;
    }
    this.#ts = this.#columns[0]!.values as BigInt64Array;
    this.#start = this.#end = this.#capacity = 0;
  }

  /** Makes room for m more rows at the end. */
  #reserve(m: number): void {
    if (this.#end + m <= this.#capacity) return;
    const live = this.length;
    // In place while at least half stays free after the move, else into arrays twice the need.
    const capacity = 2 * (live + m) <= this.#capacity ? this.#capacity : Math.max(MIN_CAPACITY, 2 * (live + m));
    for (const c of this.#columns) {
      c.values = moved(c.values, c.col.codec, this.#start, this.#end, capacity);
      if (c.nulls) c.nulls = moved(c.nulls, 'bool', this.#start, this.#end, capacity) as Uint8Array;
    }
    this.#ts = this.#columns[0]!.values as BigInt64Array;
    this.#start = 0;
    this.#end = live;
    this.#capacity = capacity;
  }
}

/** Rows made in JS (a page, a rebuilt book) as one batch, checked as ColumnBuffer.push checks them. */
export function batchOf<K extends Kind>(kind: K, rows: readonly RowsByKind[K][]): ColumnBatch {
  return new ColumnBuffer(kind, rows.length).push(rows).take(rows.length);
}

/** values[from, to) at the front of arrays of `capacity` (the same arrays when the size stays). */
function moved(values: Values, codec: Codec, from: number, to: number, capacity: number): Values {
  if (values.length === capacity) {
    values.copyWithin(0, from, to);
    // Strings left behind would stay reachable from here.
    if (Array.isArray(values)) values.fill('', to - from, to);
    return values;
  }
  const out = allocate(codec, capacity);
  if (Array.isArray(out)) for (let i = from; i < to; i++) out[i - from] = (values as string[])[i]!;
  else out.set((values as typeof out).subarray(from, to) as never);
  return out;
}

/** values[from, to) as a batch's own: a view where the buffer gives its arrays up, else a copy. */
function part(values: Values, from: number, to: number, handOver: boolean): Values {
  if (!handOver) {
    const out = values.slice(from, to);
    // The taken strings must not outlive the batch by staying reachable from the buffer.
    if (Array.isArray(values)) values.fill('', from, to);
    return out;
  }
  if (Array.isArray(values)) {
    if (from > 0) return values.slice(from, to);
    values.length = to;
    return values;
  }
  return values.subarray(from, to);
}

/** The Arrow validity bitmap of rows [from, to): undefined when none of them is null. */
function validity(nulls: Uint8Array | undefined, from: number, to: number): Pick<ColumnData, 'valid' | 'nullCount'> {
  let nullCount = 0;
  if (nulls) for (let i = from; i < to; i++) nullCount += nulls[i]!;
  if (nullCount === 0) return { valid: undefined, nullCount };
  const valid = allPresent(to - from);
  for (let i = from; i < to; i++) if (nulls![i]) setAbsent(valid, i - from);
  return { valid, nullCount };
}

function invalid(i: number, col: Column, v: unknown): ValidationError {
  const field = `rows[${i}].${col.prop}`;
  if (col.codec === 'enum') return new ValidationError(field, `${JSON.stringify(v) ?? 'undefined'} is not one of ${col.values.join(', ')}`);
  // A number where an integer is wanted is shown; any other value by its type.
  const got = v === null ? 'null' : typeof v === 'number' && col.codec !== 'ts' && col.codec !== 'big' ? String(v) : typeof v;
  return new ValidationError(field, `must be ${EXPECTED[col.codec]}, got ${got}`);
}

/** A value as its column stores it (a bigint, a number, a code, text); undefined where the column cannot hold it. */
const ENCODE: Record<Codec, (v: unknown, col: Column) => bigint | number | string | undefined> = {
  ts: (v) => (typeof v === 'bigint' ? v : undefined),
  big: (v) => (typeof v === 'bigint' ? v : undefined),
  i64: (v) => (Number.isInteger(v) ? BigInt(v as number) : undefined),
  f64: (v) => (typeof v === 'number' ? v : undefined),
  i32: (v) => (Number.isInteger(v) ? (v as number) : undefined),
  bool: (v) => (typeof v === 'boolean' ? (v ? 1 : 0) : undefined),
  str: (v) => (typeof v === 'string' ? v : undefined),
  enum: (v, col) => {
    const code = col.values.indexOf(v as string);
    return code >= 0 ? code : undefined;
  },
};

/**
 * Writes rows' values of one column at `at`, each checked on the way in: a ts of no bigint
 * cannot be stored at all, and a trade id of no text would merge every id-less row into one.
 */
function fill(c: BufferColumn, rows: ReadonlyArray<Record<string, unknown>>, at: number, capacity: number): void {
  const { col } = c;
  const p = col.prop;
  const encode = ENCODE[col.codec];
  const out = c.values as unknown as Record<number, unknown>;
  c.nulls?.fill(0, at, at + rows.length);
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i]![p];
    const x = encode(v, col);
    if (x !== undefined) out[at + i] = x;
    else if ((v !== null && v !== undefined) || !col.nullable) throw invalid(i, col, v);
    else (c.nulls ??= new Uint8Array(capacity))[at + i] = 1;
  }
}
