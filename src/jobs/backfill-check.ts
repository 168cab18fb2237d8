// The backfill verb's check: a request is checked once, here, against the venue (shape,
// capability, times, symbol listed, reach of its history) and handed on normalized, so a bad
// request starts nothing and no later layer checks it again. The CLI checks before it hosts a
// server for the run; the API (and tests) check and start in one call (backfill.ts). Loads
// no Temporal code.
import { requireBackfill } from '../domain/capabilities.ts';
import { NotFound, ValidationError } from '../domain/errors.ts';
import type { BackfillRequest, CheckedBackfill } from '../domain/job.ts';
import { checkTarget, datasetKind, type Target } from '../domain/target.ts';
import { isoFromNs, nowNs, parseAbsoluteTime, parseTimeInput } from '../domain/time.ts';
import type { ExchangeAdapter } from '../sources/adapter.ts';

const DEFAULT_BOOK_DEPTH = 100;

export interface CheckOptions {
  /** The current time, ns (tests fix it). */
  now?: bigint;
  signal?: AbortSignal;
}

export interface BackfillCheck {
  request: CheckedBackfill;
  /** Things the user should know that do not stop the run. */
  notes: string[];
}

/**
 * The checks that need no venue: target shape, capability, depth and times; the symbol in its
 * unified form. Scheduled jobs are shaped when they are applied (the venue may be down then);
 * each of their runs meets the venue itself.
 */
export function shapeBackfill(req: BackfillRequest, adapter: ExchangeAdapter, now: bigint = nowNs()): CheckedBackfill {
  const shaped = checkTarget(req.target);
  const target: Target = { ...shaped, symbol: adapter.parseSymbol(shaped.symbol) };
  const cap = requireBackfill(adapter.capabilities, target);
  const spec = req.specId ? { specId: req.specId } : {};

  if (target.kind === 'book') {
    if ((req.start !== undefined && req.start !== 'last') || req.end !== undefined) {
      const field = req.start !== undefined && req.start !== 'last' ? 'start' : 'end';
      throw new ValidationError(
        field,
        `a book backfill takes one snapshot of the current order book (${cap.maxDepth ? `up to ${cap.maxDepth} levels per side` : 'now'}); ` +
          'start and end do not apply (a book stream records it over time)',
      );
    }
    const depth = req.depth ?? DEFAULT_BOOK_DEPTH;
    if (cap.maxDepth !== undefined && depth > cap.maxDepth) {
      throw new ValidationError('depth', `${depth} is deeper than ${target.exchange} serves (at most ${cap.maxDepth})`);
    }
    return { target, start: 'last', depth, ...spec };
  }
  if (req.depth !== undefined) throw new ValidationError('depth', 'only applies to kind book');

  const start = parseTimeInput(req.start ?? 'last', 'start');
  const end = req.end === undefined ? undefined : parseAbsoluteTime(req.end, 'end');
  if (start.kind === 'ns' && start.ns >= now) {
    throw new ValidationError('start', `${isoFromNs(start.ns)} is in the future`);
  }
  if (start.kind === 'ns' && end !== undefined && end <= start.ns) {
    throw new ValidationError('end', 'must be after start (ranges are [start, end))');
  }
  const ifEmpty = req.startIfEmpty === undefined ? undefined : parseTimeInput(req.startIfEmpty, 'startIfEmpty');
  if (ifEmpty?.kind === 'last') throw new ValidationError('startIfEmpty', "'last' is what it stands in for; give origin, a date or ns");
  if (ifEmpty?.kind === 'ns' && ifEmpty.ns >= now) throw new ValidationError('startIfEmpty', `${isoFromNs(ifEmpty.ns)} is in the future`);
  if (ifEmpty?.kind === 'ns' && end !== undefined && end <= ifEmpty.ns) {
    throw new ValidationError('end', 'must be after start (ranges are [start, end))');
  }
  return {
    target,
    start: start.kind === 'ns' ? `${start.ns}` : start.kind,
    ...(end !== undefined && { end: `${end}` as const }),
    ...(start.kind === 'last' && ifEmpty && { startIfEmpty: ifEmpty.kind === 'ns' ? (`${ifEmpty.ns}` as const) : 'origin' }),
    ...spec,
  };
}

export async function checkBackfill(req: BackfillRequest, adapter: ExchangeAdapter, opts: CheckOptions = {}): Promise<BackfillCheck> {
  const request = shapeBackfill(req, adapter, opts.now ?? nowNs());
  const { target } = request;
  const notes: string[] = [];
  await adapter.checkSymbol(target.symbol, opts.signal);
  if (target.kind === 'book') return { request, notes };

  // Where an explicit range lies against the venue's history is known before any window runs.
  const start = request.start === 'last' || request.start === 'origin' ? undefined : BigInt(request.start);
  const end = request.end === undefined ? undefined : BigInt(request.end);
  if (start !== undefined || end !== undefined) {
    const first = await earliestOrNone(adapter, target, opts.signal);
    const history = `${target.exchange}'s ${target.symbol} ${datasetKind(target)} history starts ${isoFromNs(first)}`;
    if (end !== undefined && end <= first) throw new ValidationError('end', `${history}; the range ends before it`);
    if (start !== undefined && start < first) notes.push(`${history}; the run begins there`);
  }
  const now = opts.now ?? nowNs();
  if (end !== undefined && end > now) notes.push(`end ${isoFromNs(end)} is in the future: the run fetches up to the moment it starts`);
  return { request, notes };
}

async function earliestOrNone(adapter: ExchangeAdapter, target: Target, signal?: AbortSignal): Promise<bigint> {
  try {
    return await adapter.earliest(target, signal);
  } catch (e) {
    if (e instanceof NotFound) throw new ValidationError('symbol', e.message);
    throw e;
  }
}

