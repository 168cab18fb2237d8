// The Python side of bench/peer.ts: dccd-python from PyPI in a venv of its own under the
// project's .bench/ (gitignored).
import { fileURLToPath } from 'node:url';
import { ensureVenv } from '../../scripts/python-venv.ts';

export const DCCD_PYTHON_VERSION = '3.8.1';

/** The venv's python, with dccd-python installed. */
export function ensurePeerVenv(): string {
  return ensureVenv({
    dir: fileURLToPath(new URL('../../.bench/peer-venv', import.meta.url)),
    // Its Client reads a YAML config file, and PyYAML is only in its optional extras.
    requirements: [`dccd==${DCCD_PYTHON_VERSION}`, 'pyyaml'],
    probe: 'import yaml, importlib.metadata as m; print(m.version("dccd"))',
    expect: DCCD_PYTHON_VERSION,
  });
}
