// The house plan's layering, checked on the imports themselves: sources know nothing of
// storage, storage nothing of exchanges or Temporal, the API and the CLI are faces over jobs/
// and client/ (never activities/), the API never builds a worker, the domain imports nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const SRC = new URL('../../src/', import.meta.url).pathname;
const IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** Rules: a folder of src/ and what its files must not import (folders of src/ or packages). */
const FORBIDDEN: Record<string, string[]> = {
  domain: ['sources', 'storage', 'activities', 'workflows', 'jobs', 'client', 'worker', 'api', 'cli', 'config', 'services.ts', 'venue-adapters.ts', '@temporalio/'],
  sources: ['storage', 'activities', 'workflows', 'jobs', 'client', 'worker', 'api', 'cli', '@temporalio/'],
  storage: ['sources', 'activities', 'workflows', 'jobs', 'client', 'worker', 'api', 'cli', 'venue-adapters.ts', '@temporalio/'],
  api: ['activities', 'worker', 'cli'],
  cli: ['activities'],
  client: ['activities', 'worker', 'api', 'cli'],
  jobs: ['worker', 'api', 'cli'],
};

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* files(path);
    else if (e.name.endsWith('.ts')) yield path;
  }
}

/** What an import names: 'storage' for '../storage/x.ts' from src/a/b.ts, or the package. */
function target(file: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  const resolved = relative(SRC, join(file, '..', spec));
  return resolved.split('/')[0]!;
}

test('each layer imports only what the house plan lets it', () => {
  const problems: string[] = [];
  for (const [layer, banned] of Object.entries(FORBIDDEN)) {
    for (const file of files(join(SRC, layer))) {
      const src = readFileSync(file, 'utf8');
      for (const m of src.matchAll(IMPORT)) {
        // `import type` of an activity's shape is no dependency on its code.
        if (/^\s*import\s+type\b/.test(m[0]) && (m[1] ?? '').includes('/activities/')) continue;
        const to = target(file, m[1] ?? m[2]!);
        const hit = banned.find((b) => to === b || (b.endsWith('/') && to.startsWith(b)));
        if (hit) problems.push(`${relative(SRC, file)} imports ${m[1] ?? m[2]}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('the layering check resolves relative imports to their folder', () => {
  assert.equal(target(join(SRC, 'cli', 'main.ts'), '../activities/index.ts'), 'activities');
  assert.equal(target(join(SRC, 'api', 'routes', 'health.ts'), '../../worker/worker.ts'), 'worker');
  assert.equal(target(join(SRC, 'api', 'routes', 'health.ts'), './x.ts'), 'api');
  assert.equal(target(join(SRC, 'cli', 'main.ts'), '@temporalio/client'), '@temporalio/client');
});
