// How the CLI reports errors: one readable line per problem on stderr, a non-zero exit.
import { DccdError } from '../domain/errors.ts';
import { ConfigError } from '../config/load-config.ts';

export function reportError(e: unknown): number {
  if (e instanceof ConfigError) {
    process.stderr.write(`${e.message}\n`);
    return 2;
  }
  if (e instanceof DccdError) {
    process.stderr.write(`error: ${e.message}\n`);
    return 1;
  }
  const err = e as Error;
  process.stderr.write(`error: ${err?.message ?? String(e)}\n`);
  if (process.env.DCCD_DEBUG) process.stderr.write(`${err?.stack}\n`);
  return 1;
}
