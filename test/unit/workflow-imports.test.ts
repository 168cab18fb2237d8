// Determinism is enforced, not hoped: workflow files may import only the workflow SDK,
// domain types and activity *types*, never Node built-ins or I/O modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

const dir = new URL('../../src/workflows/', import.meta.url).pathname;
const IMPORT = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm;
const ALLOWED_PACKAGES = ['@temporalio/workflow', '@temporalio/common'];

test('workflow files import no Node built-ins, no I/O modules and activities only as types', () => {
  const problems: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const src = readFileSync(join(dir, file), 'utf8');
    for (const m of src.matchAll(IMPORT)) {
      const typeOnly = Boolean(m[2]);
      const spec = m[3]!;
      const where = `${file}: '${spec}'`;
      if (spec.startsWith('node:') || builtinModules.includes(spec)) problems.push(`${where} is a Node built-in`);
      else if (spec.startsWith('.')) {
        const local = spec.startsWith('./') && !spec.slice(2).includes('/');
        const domain = spec.startsWith('../domain/');
        const activityTypes = spec.startsWith('../activities/') && typeOnly;
        if (!local && !domain && !activityTypes) problems.push(`${where} is outside workflows/ and domain/ (activities only as 'import type')`);
      } else if (!ALLOWED_PACKAGES.includes(spec)) problems.push(`${where} is not a workflow-safe package`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the import check recognises a Node built-in import', () => {
  const sample = "import { readFileSync } from 'node:fs';\nimport type * as a from '../activities/index.ts';";
  const specs = [...sample.matchAll(IMPORT)].map((m) => [m[3], Boolean(m[2])]);
  assert.deepEqual(specs, [
    ['node:fs', false],
    ['../activities/index.ts', true],
  ]);
});
