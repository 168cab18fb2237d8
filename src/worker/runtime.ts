// The Temporal SDK runtime of this process, and where its logs go. The SDK's Rust core and its
// TS worker both log through one logger that hands lines to dccd's own output (so a progress
// bar can clear itself first), drops what dccd reports better itself, and does not repeat a
// line more than once a minute.
import { DefaultLogger, Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import { logLine } from './log-sink.ts';

let installed = false;

// A failed activity or workflow task is the run's business: dccd shows it in the run's status
// and result, with the venue's message, so the SDK's copy (with a stack) is noise.
const REPORTED_BY_DCCD = /^(Activity failed|Workflow failed|Activity completed as cancelled|Workflow completed as cancelled)/;
const REPEAT_EVERY_MS = 60_000;

/** Turns an SDK log entry into one dccd line, or nothing when dccd says it better or just said it. */
export class SdkLogLines {
  readonly #lastSaid = new Map<string, number>();

  line(level: LogLevel, message: string, meta: LogMetadata | undefined, nowMs: number): string | undefined {
    if (REPORTED_BY_DCCD.test(message)) return undefined;
    const error = meta?.error instanceof Error ? meta.error.message : typeof meta?.error === 'string' ? meta.error : undefined;
    const line = `dccd: temporal ${level === 'ERROR' ? 'error' : 'warning'}: ${message}${error ? ` (${error.split('\n')[0]})` : ''}`;
    if (nowMs - (this.#lastSaid.get(line) ?? -Infinity) < REPEAT_EVERY_MS) return undefined;
    this.#lastSaid.set(line, nowMs);
    return line;
  }
}

/**
 * Installs the process-wide SDK runtime; it must come before the first worker connection.
 * dccd handles SIGINT/SIGTERM itself (drain the worker, then stop API and server), so the
 * runtime installs no signal handlers of its own.
 */
export function installRuntime(): void {
  if (installed) return;
  const lines = new SdkLogLines();
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => {
      const line = lines.line(entry.level, entry.message, entry.meta, Date.now());
      if (line) logLine(line);
    }),
    telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } } },
    shutdownSignals: [],
  });
  installed = true;
}
