// Messages and search attributes shared by workflows and their clients (API, CLI), defined
// once at module scope. Safe to import from both sides: no Node APIs, no I/O.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { BackfillProgress } from '../domain/job.ts';
import type { StreamRunStatus } from '../domain/stream.ts';

export const progressQuery = defineQuery<BackfillProgress>('progress');
/** A stream's counters up to its last finished session; the running session's are in its heartbeat. */
export const streamStatusQuery = defineQuery<StreamRunStatus>('status');
/** Ends a run after the window in flight is written. */
export const stopSignal = defineSignal('stop');

export { SA, SEARCH_ATTRIBUTE_KEYS } from './search-attribute-keys.ts';
