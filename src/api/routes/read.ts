// GET /api/read: a range of a dataset out of the store, streamed in the format asked for. The
// answer starts once the first rows are in hand (a read that cannot start is an error answer
// like any other); a failure after that aborts the response, so a client never takes a cut
// answer for a whole one. A client that goes away ends the read and frees its connection.
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFound, ValidationError } from '../../domain/errors.ts';
import { datasetKind, KINDS, symbolSlug } from '../../domain/target.ts';
import { isoFromNs } from '../../domain/time.ts';
import { checkRead, noRowsNote, READ_FORMATS, startRows, type CheckedRead, type ReadFormat } from '../../jobs/read.ts';
import type { Services } from '../../services.ts';
import { writeRows } from '../../storage/row-formats.ts';
import { ExchangeName, Symbol, errors } from '../schemas.ts';

const ReadQuery = z.strictObject({
  exchange: ExchangeName,
  symbol: Symbol,
  kind: z.enum(KINDS),
  span: z.string().max(8).optional(),
  start: z.string().max(40).optional(),
  end: z.string().max(40).optional(),
  at: z.string().max(40).optional().describe('kind book: the book at this instant (the levels of the last snapshot at or before it, with the diffs after it applied), instead of a range'),
  depth: z.string().max(7).optional().describe('with at: levels per side at most'),
  format: z.enum(READ_FORMATS).default('json'),
});

const MEDIA_TYPES: Record<ReadFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
  arrow: 'application/vnd.apache.arrow.stream',
  parquet: 'application/vnd.apache.parquet',
};
const EXTENSIONS: Record<ReadFormat, string> = { csv: 'csv', json: 'json', jsonl: 'jsonl', arrow: 'arrows', parquet: 'parquet' };

/** binance_BTC-USDT_ohlc-1m_2024-01-01T000000Z_2024-01-02T000000Z.csv: the dataset and the bounds (or the instant) asked for. */
function fileName(r: CheckedRead, format: ReadFormat): string {
  const instant = (ns: bigint) => isoFromNs(ns).replace(/\.?0+Z$/, 'Z').replaceAll(':', '');
  const bounds = [r.startNs, r.endNs, r.at?.ns].filter((ns) => ns !== undefined).map(instant);
  return `${[r.target.exchange, symbolSlug(r.target.symbol), datasetKind(r.target), ...bounds].join('_')}.${EXTENSIONS[format]}`;
}

const DESCRIPTION = `Rows of [start, end) (either bound optional; a date, an ISO date-time or integer ns), sorted by ts, in one of:
json (one array of objects), jsonl (one object a line), csv, arrow (an Arrow IPC stream, ts as Timestamp(ns)) or parquet.
In json, jsonl and csv, ts is ISO text and ts_ns its ns; in json and jsonl ns and int64 values are strings, so nothing
loses precision. A range with no rows is an empty answer (200) with the reason in the X-Dccd-Note header; a dataset
with nothing stored is 404. With \`at\` (books), the rows are the book's levels at that instant (side, level from 0 = best,
price, amount), each with the ts and seq of the last update applied; no snapshot at or before it is a 400 naming \`at\`,
and parquet is not offered for it.`;

export const readRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/api/read',
    { schema: { summary: 'A range of a dataset out of the store, streamed as JSON, JSON lines, CSV, Arrow or Parquet', description: DESCRIPTION, querystring: ReadQuery, response: { 200: z.unknown().describe('the rows, as the format says'), ...errors } } },
    async (req, reply) => {
      const { format, ...request } = req.query;
      const read = checkRead((name) => services.adapter(name), request);
      if (read.at && format === 'parquet') throw new ValidationError('format', 'parquet is for ranges; a book at one instant (at) is read as csv, json, jsonl or arrow');
      const store = services.store;
      const { target, startNs, endNs } = read;
      // An empty answer says why; a dataset with nothing stored is not found.
      const noteEmpty = async (discard: () => void) => {
        const { note, held } = await noRowsNote(store, read);
        if (!held) {
          discard();
          throw new NotFound(`nothing stored for ${target.exchange} ${target.symbol} ${datasetKind(target)}`);
        }
        reply.header('x-dccd-note', note.replaceAll('…', '...')); // header values are Latin-1
      };
      const send = (body: Readable) =>
        reply.header('content-type', MEDIA_TYPES[format]).header('content-disposition', `attachment; filename="${fileName(read, format)}"`).send(body);
      if (format === 'parquet') {
        const exported = await store.parquetStream(target, startNs, endNs);
        if (exported.rows === 0) await noteEmpty(() => exported.stream.destroy());
        return send(exported.stream);
      }
      const stop = new AbortController();
      const rows = await startRows(store, read, stop.signal);
      if (rows.empty) await noteEmpty(() => undefined);
      const out = new PassThrough();
      out.once('close', () => stop.abort());
      writeRows(format, target.kind, rows.batches, out).then(
        () => out.end(),
        (e: unknown) => {
          if (out.destroyed) return; // the client went away
          process.stderr.write(`dccd api: ${req.method} ${req.url}: the read failed after its answer had begun: ${(e as Error)?.stack ?? String(e)}\n`);
          out.destroy(e as Error);
        },
      );
      return send(out);
    },
  );
};
