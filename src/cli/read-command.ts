// `dccd read`: a range of a dataset back out of the store, as CSV, JSON, JSON lines, an Arrow
// IPC stream or Parquet; or a book rebuilt at one instant (--at). Streamed (jobs/read.ts), so a read of any size runs in bounded memory.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { AppConfig } from '../config/app-config.ts';
import { checkDataFolder, checkOutFile } from '../config/path-checks.ts';
import { ValidationError } from '../domain/errors.ts';
import { checkRead, noRowsNote, READ_FORMATS, startRows, type ReadFormat } from '../jobs/read.ts';
import { buildServices } from '../services.ts';
import { ROW_FORMATS, writeRows } from '../storage/row-formats.ts';

export interface ReadFlags {
  kind: string;
  span?: string;
  start?: string;
  end?: string;
  at?: string;
  depth?: string;
  format: string;
  out?: string;
}

const isFormat = (f: string): f is ReadFormat => (READ_FORMATS as readonly string[]).includes(f);

export async function runRead(cfg: AppConfig, exchange: string, symbol: string, f: ReadFlags): Promise<void> {
  const format = f.format;
  if (!isFormat(format)) throw new ValidationError('--format', `'${format}' is not one of ${READ_FORMATS.join(', ')}`);
  if (format === 'parquet' && f.at !== undefined) throw new ValidationError('--format', `parquet is for ranges; a book at one instant (--at) is read as ${ROW_FORMATS.join(', ')}`);
  if (format === 'parquet' && !f.out) throw new ValidationError('--out', 'required for --format parquet');
  const services = buildServices(cfg);
  const read = checkRead((name) => services.adapter(name), { exchange, symbol, ...f }, (field) => (field === 'exchange' ? field : `--${field}`));
  await checkDataFolder(cfg.data, { write: false });
  if (f.out) await checkOutFile(f.out, '--out');
  const store = services.store;
  const { target, startNs, endNs } = read;
  try {
    const rows =
      format === 'parquet'
        ? await store.exportParquet(target, f.out!, startNs, endNs)
        : await startRows(store, read).then(({ batches }) => writeAtomically(f.out, (out) => writeRows(format, target.kind, batches, out)));
    if (rows === 0) process.stderr.write(`${(await noRowsNote(store, read)).note}\n`);
  } finally {
    await services.close();
  }
}

/** To a temp file renamed into place (never a half-written file), or to stdout. */
async function writeAtomically<T>(path: string | undefined, fn: (out: Writable) => Promise<T>): Promise<T | undefined> {
  if (!path) return toStdout(fn);
  const tmp = `${path}.tmp-${process.pid}`;
  const out = createWriteStream(tmp);
  try {
    const rows = await fn(out);
    out.end();
    await once(out, 'finish');
    await rename(tmp, path);
    return rows;
  } catch (e) {
    out.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * To stdout. A reader that stops early (`dccd read … | head`) closes the pipe: that ends the
 * output, as it does for any Unix tool, instead of failing the command (and gives undefined).
 */
async function toStdout<T>(fn: (out: Writable) => Promise<T>): Promise<T | undefined> {
  const out = process.stdout;
  const closed = (e: NodeJS.ErrnoException) => e.code === 'EPIPE';
  let gone = false;
  const onError = (e: NodeJS.ErrnoException) => {
    if (closed(e)) gone = true;
  };
  out.on('error', onError);
  try {
    return await fn(out);
  } catch (e) {
    if (!gone && !closed(e as NodeJS.ErrnoException)) throw e;
    return undefined;
  } finally {
    out.off('error', onError);
  }
}
