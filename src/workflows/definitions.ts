// Messages and search attributes shared by workflows and their clients (API, CLI), defined
// once at module scope. Safe to import from both sides: no Node APIs, no I/O.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { BackfillProgress } from '../domain/job.ts';
import type { StreamRunStatus } from '../domain/stream.ts';

export const progressQuery = defineQuery<BackfillProgress>('progress');
/** A stream's counters up to its last finished session; the running session's are in its heartbeat. */
export const streamStatusQuery = defineQuery<StreamRunStatus>('status');
/** Ends a run after the window in flight is written. */
export const stopSignal = defineSignal('stop');

export const SA = {
  /** The run id users see: the first execution's run id, stable across continue-as-new. */
  runId: defineSearchAttributeKey('DccdRunId', SearchAttributeType.KEYWORD),
  specId: defineSearchAttributeKey('DccdSpecId', SearchAttributeType.KEYWORD),
  operation: defineSearchAttributeKey('DccdOperation', SearchAttributeType.KEYWORD),
  exchange: defineSearchAttributeKey('DccdExchange', SearchAttributeType.KEYWORD),
  symbol: defineSearchAttributeKey('DccdSymbol', SearchAttributeType.KEYWORD),
  kind: defineSearchAttributeKey('DccdKind', SearchAttributeType.KEYWORD),
  /** running, stopping, completed, stopped or failed: a stopped run is not a completed one in any list. */
  state: defineSearchAttributeKey('DccdState', SearchAttributeType.KEYWORD),
  rowsWritten: defineSearchAttributeKey('RowsWritten', SearchAttributeType.INT),
} as const;

/** Every custom search attribute the runs model needs, for registration on a server. */
export const SEARCH_ATTRIBUTE_KEYS = Object.values(SA);
