// The workflow code a worker runs, bundled once rather than by webpack on every start (seconds
// of CPU and ~100 MiB): at build time into dist/, or from the sources into a cache entry keyed
// by a hash of those sources and the SDK's version.
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { prepareOnce, preparedPath, PROJECT_ROOT } from '../prepared-files.ts';

// Next to this module, as .ts when run from src/, as .js when built into dist/.
export const WORKFLOWS_PATH = fileURLToPath(new URL(`../workflows/index${extname(import.meta.url)}`, import.meta.url));
const SOURCES = fileURLToPath(new URL('..', import.meta.url));

/** The bundle to give `Worker.create` as `workflowBundle`, made first if it is missing. */
export async function workflowBundle(): Promise<{ codePath: string }> {
  const path = await preparedPath('workflow-bundle.js', async () => `workflows-${await sourcesHash()}.js`);
  return { codePath: await prepareOnce(path, writeBundle) };
}

async function writeBundle(path: string): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  await writeFile(path, code);
}

/** Every source file (what the workflows import is among them) and the SDK that wraps them. */
async function sourcesHash(): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(SOURCES, { recursive: true })).filter((f) => f.endsWith('.ts')).sort();
  for (const f of files) hash.update(f).update(await readFile(join(SOURCES, f)));
  hash.update(await readFile(join(PROJECT_ROOT, 'node_modules', '@temporalio', 'workflow', 'package.json')));
  return hash.digest('hex').slice(0, 16);
}

// webpack's progress lines are noise on a user's terminal; its errors still fail the bundle.
const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
};
