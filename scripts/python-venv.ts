// A Python venv of the project's own (under a gitignored folder), made once and reused while
// it holds the pinned packages: dccd-python for the peer bench, schemathesis for API fuzzing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface VenvSpec {
  /** The venv's folder. */
  dir: string;
  /** pip requirements, pinned. */
  requirements: string[];
  /** Python code that prints `expect` when the venv is ready. */
  probe: string;
  expect: string;
}

function ready(python: string, v: VenvSpec): boolean {
  if (!existsSync(python)) return false;
  const r = spawnSync(python, ['-c', v.probe], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === v.expect;
}

function run(command: string, args: string[]): void {
  // pip's output goes to stderr: stdout carries the caller's results.
  const r = spawnSync(command, args, { stdio: ['ignore', 2, 2] });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: exit code ${r.status ?? r.signal}`);
}

/** The venv's python, with the requirements installed. */
export function ensureVenv(v: VenvSpec): string {
  const python = `${v.dir}/bin/python`;
  if (ready(python, v)) return python;
  console.error(`creating ${v.dir} with ${v.requirements.join(' ')} from PyPI`);
  if (!existsSync(python)) run('python3', ['-m', 'venv', v.dir]);
  run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...v.requirements]);
  if (!ready(python, v)) throw new Error(`${v.dir}: ${v.requirements.join(' ')} still not importable after pip install`);
  return python;
}
