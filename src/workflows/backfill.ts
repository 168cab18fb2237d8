// The backfill workflow: one per dataset at a time (its id is the dataset's). Resolves the
// range once, then fetches and writes window after window; rows never pass through here.
import {
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  ContinueAsNew,
  isCancellation,
  makeContinueAsNewFunc,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { ResolvedBackfill } from '../activities/backfill-range.ts';
import type { WindowResult } from '../activities/backfill.ts';
import { LOG_TAIL_LINES, type BackfillProgress, type BackfillResult, type CheckedBackfill, type RunState } from '../domain/job.ts';
import { datasetKind } from '../domain/target.ts';
import { isoFromNs } from '../domain/time.ts';
import { planWindows } from '../domain/windows.ts';
import { RESOLVE, WINDOW } from './activity-options.ts';
import { describeFailure } from './failure-text.ts';
import { progressQuery, SA, stopSignal } from './definitions.ts';

const { resolveBackfill } = proxyActivities<Activities>(RESOLVE);
const { fetchWindow, snapshotBook } = proxyActivities<Activities>(WINDOW);

/**
 * Windows per run segment before continuing as new. At most ~7 history events per window
 * (activity scheduled/started/completed, workflow task ×3, search-attribute upsert) keeps a
 * segment under ~3 500 events, below Temporal's 4 096-event continue-as-new suggestion.
 */
export const WINDOWS_PER_SEGMENT = 480;

/**
 * Windows fetched at once. One pager waits a round trip per page; a few in parallel keep the
 * venue's request budget busy (the shared rate limiter keeps them under it), and windows
 * are independent: they cover disjoint ranges and write disjoint parts.
 */
export const WINDOW_CONCURRENCY = 4;

/** What a run carries into its next segment. */
export interface BackfillCarry {
  resolved: ResolvedBackfill;
  windowsDone: number;
  rowsWritten: number;
  currentNs: string | null;
  log: string[];
  segment?: number;
}

export interface BackfillInput {
  request: CheckedBackfill;
  carry?: BackfillCarry;
  /** Tests lower it to exercise continue-as-new. */
  windowsPerSegment?: number;
  concurrency?: number;
}

export async function backfill(input: BackfillInput): Promise<BackfillResult> {
  const info = workflowInfo();
  const runId = info.firstExecutionRunId;
  const carry = input.carry;
  const segment = (carry?.segment ?? 0) + 1;
  const progress: BackfillProgress = {
    state: 'running',
    startNs: carry?.resolved.startNs ?? null,
    endNs: carry?.resolved.endNs ?? null,
    windowsDone: carry?.windowsDone ?? 0,
    windowsTotal: 0,
    rowsWritten: carry?.rowsWritten ?? 0,
    currentNs: carry?.currentNs ?? null,
    log: carry?.log ?? [],
  };
  let stopRequested = false;
  let inFlight: CancellationScope | undefined;
  setHandler(progressQuery, () => progress);
  setHandler(stopSignal, () => {
    if (stopRequested) return;
    stopRequested = true;
    if (progress.state === 'running') setState('stopping');
    say('stop requested: windows in flight finish, or end at once if they are retrying');
    // Each window decides: a healthy one finishes, one waiting out errors ends now.
    inFlight?.cancel();
  });
  function say(line: string) {
    progress.log.push(`${new Date().toISOString()} ${line}`);
    if (progress.log.length > LOG_TAIL_LINES) progress.log.splice(0, progress.log.length - LOG_TAIL_LINES);
  }
  function setState(state: RunState) {
    progress.state = state;
    upsertSearchAttributes([
      { key: SA.state, value: state },
      { key: SA.rowsWritten, value: progress.rowsWritten },
    ]);
  }
  const result = (state: BackfillResult['state'], error?: string): BackfillResult => ({
    runId,
    state,
    rowsWritten: progress.rowsWritten,
    startNs: progress.startNs,
    endNs: progress.endNs,
    ...(error !== undefined && { error }),
  });

  try {
    if (!carry) upsertSearchAttributes([{ key: SA.runId, value: runId }]);
    const resolved = carry?.resolved ?? (await resolveBackfill.executeWithOptions({ ...RESOLVE, summary: 'resolve the range' }, [input.request]));
    const { target } = resolved;
    const title = `backfill ${target.exchange} ${target.symbol} ${datasetKind(target)} [${isoFromNs(BigInt(resolved.startNs))}, ${isoFromNs(BigInt(resolved.endNs))})`;
    if (!carry) {
      progress.startNs = resolved.startNs;
      progress.endNs = resolved.endNs;
      say(`range [${isoFromNs(BigInt(resolved.startNs))}, ${isoFromNs(BigInt(resolved.endNs))}) from ${resolved.startFrom}`);
    }
    if (target.kind === 'book') {
      progress.windowsTotal = 1;
      const summary = `book snapshot, ${resolved.depth} levels per side`;
      record(await snapshotBook.executeWithOptions({ ...WINDOW, summary }, [{ target, depth: resolved.depth! }]), resolved.endNs);
      return done();
    }
    const plan = planWindows(BigInt(resolved.startNs), BigInt(resolved.endNs), BigInt(resolved.windowNs));
    progress.windowsTotal = plan.count;
    if (plan.count === 0) say('nothing to fetch: the dataset is already up to date');
    const segmentLimit = input.windowsPerSegment ?? WINDOWS_PER_SEGMENT;
    const concurrency = input.concurrency ?? WINDOW_CONCURRENCY;
    for (let i = progress.windowsDone, inSegment = 0; i < plan.count; ) {
      // A continued segment starts without the first one's summary: the details say what it is.
      setCurrentDetails(`${title}\n\nsegment ${segment}: ${progress.windowsDone}/${plan.count} windows, ${progress.rowsWritten} rows`);
      if (stopRequested) return stopped(plan.count);
      if (inSegment >= segmentLimit || workflowInfo().continueAsNewSuggested) {
        await condition(allHandlersFinished);
        // The next segment keeps the run's memo (its summary): Temporal does not carry the
        // first execution's static summary over, so the memo and current details tell it.
        return await makeContinueAsNewFunc<typeof backfill>({ memo: workflowInfo().memo })({
          ...input,
          carry: { resolved, windowsDone: progress.windowsDone, rowsWritten: progress.rowsWritten, currentNs: progress.currentNs, log: progress.log, segment },
        });
      }
      const batch = Array.from({ length: Math.min(concurrency, plan.count - i) }, (_, k) => plan.window(i + k));
      const scope = new CancellationScope();
      inFlight = scope;
      const settled = await scope.run(() =>
        Promise.allSettled(
          batch.map(([lo, hi], k) =>
            fetchWindow.executeWithOptions({ ...WINDOW, summary: `window ${i + k + 1}/${plan.count} [${isoFromNs(lo)}, ${isoFromNs(hi)})` }, [
              { target, startNs: String(lo), endNs: String(hi) },
            ]),
          ),
        ),
      );
      inFlight = undefined;
      let failure: unknown;
      // Windows after an unfinished one are written, but the dataset is complete only up to it.
      let contiguous = true;
      settled.forEach((s, k) => {
        const [lo, hi] = batch[k]!;
        const label = `window ${i + k + 1}/${plan.count} [${isoFromNs(lo)}, ${isoFromNs(hi)})`;
        if (s.status === 'fulfilled') {
          record(s.value, contiguous ? String(hi) : undefined);
          say(`${label}: ${s.value.rows} rows in ${s.value.pages} pages`);
          return;
        }
        contiguous = false;
        // Once stopping, a window that did not finish (cancelled, or timed out on a worker that
        // is gone) is interrupted, not a reason to fail the run.
        if (isCancellation(s.reason)) say(`${label}: interrupted by the stop; a later run fetches it again`);
        else if (stopRequested) say(`${label}: interrupted by the stop (${describeFailure(s.reason)}); a later run fetches it again`);
        else failure ??= s.reason;
      });
      if (failure !== undefined) throw failure;
      i += batch.length;
      inSegment += batch.length;
      upsertSearchAttributes([{ key: SA.rowsWritten, value: progress.rowsWritten }]);
    }
    if (stopRequested && progress.windowsDone < plan.count) return stopped(plan.count);
    return done();
  } catch (e) {
    if (e instanceof ContinueAsNew || isCancellation(e)) throw e;
    const message = describeFailure(e);
    setState('failed');
    say(`failed: ${message}`);
    throw ApplicationFailure.create({ message, type: 'BackfillFailed', nonRetryable: true, details: [result('failed', message)] });
  }

  function record(r: WindowResult, coveredTo: string | undefined) {
    for (const line of r.log) say(line);
    progress.windowsDone++;
    progress.rowsWritten += r.rows;
    if (coveredTo !== undefined) progress.currentNs = coveredTo;
  }
  function stopped(total: number): BackfillResult {
    say(`stopped after ${progress.windowsDone} of ${total} windows`);
    setState('stopped');
    return result('stopped');
  }
  function done(): BackfillResult {
    say(`completed: ${progress.rowsWritten} rows`);
    setState('completed');
    return result('completed');
  }
}
