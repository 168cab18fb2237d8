// The backfill workflow: one per dataset at a time (its id is the dataset's). Resolves the
// range once, then fetches and writes window after window; rows never pass through here.
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { ResolvedBackfill } from '../activities/backfill-plan.ts';
import type { WindowResult } from '../activities/backfill.ts';
import { LOG_TAIL_LINES, type BackfillProgress, type BackfillRequest, type BackfillResult } from '../domain/job.ts';
import { isoFromNs } from '../domain/time.ts';
import { planWindows } from '../domain/windows.ts';
import { RESOLVE, WINDOW } from './activity-options.ts';
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
}

export interface BackfillInput {
  request: BackfillRequest;
  carry?: BackfillCarry;
  /** Tests lower it to exercise continue-as-new. */
  windowsPerSegment?: number;
  concurrency?: number;
}

export async function backfill(input: BackfillInput): Promise<BackfillResult> {
  const info = workflowInfo();
  const runId = info.firstExecutionRunId;
  const carry = input.carry;
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
  setHandler(progressQuery, () => progress);
  setHandler(stopSignal, () => {
    stopRequested = true;
    if (progress.state === 'running') progress.state = 'stopping';
    say('stop requested: ending after the window in flight');
  });
  function say(line: string) {
    progress.log.push(`${new Date().toISOString()} ${line}`);
    if (progress.log.length > LOG_TAIL_LINES) progress.log.splice(0, progress.log.length - LOG_TAIL_LINES);
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
    const resolved = carry?.resolved ?? (await resolveBackfill(input.request));
    if (!carry) {
      progress.startNs = resolved.startNs;
      progress.endNs = resolved.endNs;
      say(`range [${isoFromNs(BigInt(resolved.startNs))}, ${isoFromNs(BigInt(resolved.endNs))}) from ${resolved.startFrom}`);
    }
    const { target } = resolved;
    if (target.kind === 'book') {
      progress.windowsTotal = 1;
      record(await snapshotBook({ target, depth: resolved.depth! }), resolved.endNs);
      return done();
    }
    const plan = planWindows(BigInt(resolved.startNs), BigInt(resolved.endNs), BigInt(resolved.windowNs));
    progress.windowsTotal = plan.count;
    if (plan.count === 0) say('nothing to fetch: the dataset is already up to date');
    const segmentLimit = input.windowsPerSegment ?? WINDOWS_PER_SEGMENT;
    const concurrency = input.concurrency ?? WINDOW_CONCURRENCY;
    for (let i = progress.windowsDone, inSegment = 0; i < plan.count; ) {
      if (stopRequested) {
        progress.state = 'stopped';
        say(`stopped after ${progress.windowsDone} of ${plan.count} windows`);
        setRowsAttribute();
        return result('stopped');
      }
      if (inSegment >= segmentLimit || workflowInfo().continueAsNewSuggested) {
        await condition(allHandlersFinished);
        return await continueAsNew<typeof backfill>({
          ...input,
          carry: { resolved, windowsDone: progress.windowsDone, rowsWritten: progress.rowsWritten, currentNs: progress.currentNs, log: progress.log },
        });
      }
      const batch = Array.from({ length: Math.min(concurrency, plan.count - i) }, (_, k) => plan.window(i + k));
      const results = await Promise.all(batch.map(([lo, hi]) => fetchWindow({ target, startNs: String(lo), endNs: String(hi) })));
      results.forEach((r, k) => {
        const [lo, hi] = batch[k]!;
        record(r, String(hi));
        say(`window ${i + k + 1}/${plan.count} [${isoFromNs(lo)}, ${isoFromNs(hi)}): ${r.rows} rows in ${r.pages} pages`);
      });
      i += batch.length;
      inSegment += batch.length;
      setRowsAttribute();
    }
    return done();
  } catch (e) {
    if (e instanceof ContinueAsNew || isCancellation(e)) throw e;
    const message = describeFailure(e);
    progress.state = 'failed';
    say(`failed: ${message}`);
    throw ApplicationFailure.create({ message, type: 'BackfillFailed', nonRetryable: true, details: [result('failed', message)] });
  }

  function record(r: WindowResult, coveredTo: string) {
    for (const line of r.log) say(line);
    progress.windowsDone++;
    progress.rowsWritten += r.rows;
    progress.currentNs = coveredTo;
  }
  function done(): BackfillResult {
    progress.state = 'completed';
    say(`completed: ${progress.rowsWritten} rows`);
    setRowsAttribute();
    return result('completed');
  }
  function setRowsAttribute() {
    upsertSearchAttributes([{ key: SA.rowsWritten, value: progress.rowsWritten }]);
  }
}

/** The innermost message: "binance: unknown symbol ..." rather than "Activity task failed". */
function describeFailure(e: unknown): string {
  let err = e as Error & { cause?: unknown };
  while (err instanceof ActivityFailure && err.cause) err = err.cause as Error & { cause?: unknown };
  return err?.message ?? String(e);
}
