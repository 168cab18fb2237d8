// The Python side of bench/peer.ts: dccd-python from PyPI in a venv of its own under the
// project's .bench/ (gitignored), made once and reused while it holds the pinned version.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DCCD_PYTHON_VERSION = '3.8.1';
const VENV = fileURLToPath(new URL('../../.bench/peer-venv', import.meta.url));
export const PYTHON = `${VENV}/bin/python`;
// Its Client reads a YAML config file, and PyYAML is only in its optional extras.
const REQUIREMENTS = [`dccd==${DCCD_PYTHON_VERSION}`, 'pyyaml'];

function installed(): boolean {
  if (!existsSync(PYTHON)) return false;
  const probe = spawnSync(PYTHON, ['-c', 'import yaml, importlib.metadata as m; print(m.version("dccd"))'], { encoding: 'utf8' });
  return probe.status === 0 && probe.stdout.trim() === DCCD_PYTHON_VERSION;
}

function run(command: string, args: string[]): void {
  // Their output goes to stderr: stdout carries the bench's figures.
  const r = spawnSync(command, args, { stdio: ['ignore', 2, 2] });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: exit code ${r.status ?? r.signal}`);
}

/** The venv's python, with dccd-python installed. */
export function ensurePeerVenv(): string {
  if (installed()) return PYTHON;
  console.error(`creating ${VENV} with dccd==${DCCD_PYTHON_VERSION} from PyPI`);
  if (!existsSync(PYTHON)) run('python3', ['-m', 'venv', VENV]);
  run(PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...REQUIREMENTS]);
  if (!installed()) throw new Error(`${VENV}: dccd ${DCCD_PYTHON_VERSION} is still not importable after pip install`);
  return PYTHON;
}
