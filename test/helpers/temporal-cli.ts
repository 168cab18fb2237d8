// The Temporal CLI the project installs, run as a user would, to see what dccd made on the server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolveTemporalBinary } from '../../src/worker/temporal-binary.ts';

export function temporalCli(args: string[]): string {
  const bin = resolveTemporalBinary();
  assert.equal(bin.type, 'path', 'the project installs the temporal CLI');
  const r = spawnSync(bin.type === 'path' ? bin.path : '', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}
