// Every workflow the worker registers. Deterministic code only: no Node APIs, no I/O.
export { backfill } from './backfill.ts';
export { probe } from './probe.ts';
export { scheduledBackfill } from './scheduled-backfill.ts';
export { stream } from './stream.ts';
