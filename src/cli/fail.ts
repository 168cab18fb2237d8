// How the CLI reports errors: one readable line per problem on stderr and a non-zero exit;
// with `--json`, one JSON object on stdout instead, `{error, field, reason}` as the API answers.
import { DccdError, ValidationError } from '../domain/errors.ts';
import { ConfigError } from '../config/config-error.ts';

export interface ReportOptions {
  /** Print `{"error", "field", "reason"}` on stdout, for scripts that asked for --json. */
  json?: boolean;
}

/** Reports `e` and returns the exit code: 2 for a bad configuration, else 1. */
export function reportError(e: unknown, opts: ReportOptions = {}): number {
  const code = e instanceof ConfigError ? 2 : 1;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(errorObject(e))}\n`);
    return code;
  }
  if (e instanceof ConfigError) process.stderr.write(`${e.message}\n`);
  else if (e instanceof DccdError) process.stderr.write(`error: ${e.message}\n`);
  else {
    const err = e as Error;
    process.stderr.write(`error: ${err?.message ?? String(e)}\n`);
    if (process.env.DCCD_DEBUG) process.stderr.write(`${err?.stack}\n`);
  }
  return code;
}

function errorObject(e: unknown): { error: string; field: string | null; reason: string } {
  if (e instanceof ValidationError) return { error: e.message, field: e.field || null, reason: e.reason };
  if (e instanceof ConfigError) {
    const only = e.only;
    return { error: e.message, field: only?.field || null, reason: only?.reason ?? e.problems.join('; ') };
  }
  const message = (e as Error)?.message ?? String(e);
  return { error: message, field: null, reason: message };
}
