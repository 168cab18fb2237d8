// The package as a user installs and runs it: `npm ci` builds dist/ (prepare), bin/dccd.js
// runs that build, and a command loads only what it uses; no locked dependency asks for a
// newer Node than the one dccd promises (npm ci would warn EBADENGINE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/prepared-files.ts';
import { MANIFEST_SCHEMA } from '../../src/storage/coverage-store.ts';

const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8'));

/** The packages (and dccd's own files) a dccd command loads. */
function loads(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; urls: string[] } {
  const r = spawnSync(process.execPath, ['--import', join(PROJECT_ROOT, 'test', 'helpers', 'record-imports.mjs'), join(PROJECT_ROOT, 'bin', 'dccd.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  const urls = r.stderr.split('\n').flatMap((l) => (l.startsWith('IMPORT ') ? [l.slice(7)] : []));
  return { status: r.status, stdout: r.stdout, urls };
}
const packages = (urls: string[]) => new Set(urls.flatMap((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1] ?? []));

test('npm ci built dist/, and bin/dccd.js runs that build rather than the TypeScript sources', () => {
  assert.ok(existsSync(join(PROJECT_ROOT, 'dist', '.built')), 'dist/.built: npm ci (prepare) runs npm run build');
  assert.ok(existsSync(join(PROJECT_ROOT, 'dist', 'workflow-bundle.js')), 'the workflow bundle is prepared at build time');
  assert.ok(existsSync(join(PROJECT_ROOT, 'dist', `pglite-template-schema-${MANIFEST_SCHEMA.version}`, 'PG_VERSION')), 'the embedded database template is prepared at build time');
  const r = loads(['--version']);
  assert.equal(r.stdout.trim(), pkg.version);
  assert.ok(r.urls.some((u) => u.endsWith('/dist/cli/main.js')), 'runs dist/cli/main.js');
  assert.ok(!r.urls.some((u) => u.includes('/src/') || u.includes('/node_modules/tsx/')), 'no TypeScript compiled at run time');
});

test('--help, validate and read load neither Temporal nor the embedded Postgres; only read loads DuckDB', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dccd-loads-'));
  try {
    const heavy = ['@temporalio/client', '@temporalio/worker', '@temporalio/proto', '@electric-sql/pglite', 'pg'];
    const env = { DCCD_DATA: join(dir, 'data'), TEMPORAL_ADDRESS: '', DATABASE_URL: '' };
    for (const args of [['--help'], ['validate'], ['read', 'binance', 'BTCUSDT', '--kind', 'ohlc', '--span', '1m']]) {
      const r = loads(args, env);
      assert.equal(r.status, 0, args.join(' '));
      const loaded = packages(r.urls);
      assert.deepEqual(heavy.filter((p) => loaded.has(p)), [], `dccd ${args.join(' ')} loads them`);
      assert.equal(loaded.has('@duckdb/node-api'), args[0] === 'read', `dccd ${args.join(' ')} and DuckDB`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

type Version = [number, number, number];
const version = (v: string): Version => v.replace(/^v/, '').split('.').map((x) => Number.parseInt(x, 10) || 0).concat(0, 0).slice(0, 3) as Version;
const cmp = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** Whether `v` satisfies an engines range of the forms npm packages use: >=, ^, ~, x-ranges, ||, spaces (and). */
function admits(range: string, v: Version): boolean {
  return range.split('||').some((alt) =>
    alt
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .every((c) => {
        const m = /^(>=|>|<=|<|\^|~|=)?v?([\d.x*]+)$/.exec(c);
        if (!m || m[2] === '*' || m[2] === 'x') return true;
        const want = version(m[2]!.replace(/[x*]/g, '0'));
        const d = cmp(v, want);
        switch (m[1]) {
          case '>=':
            return d >= 0;
          case '>':
            return d > 0;
          case '<=':
            return d <= 0;
          case '<':
            return d < 0;
          case '^':
            return d >= 0 && v[0] === want[0];
          case '~':
            return d >= 0 && v[0] === want[0] && v[1] === want[1];
          default:
            // A partial version (20, 20.x, 20.3) stands for every release it is a prefix of.
            return m[2]!.replace(/\.?[x*].*$/, '').split('.').every((part, i) => Number(part) === v[i]);
        }
      }),
  );
}

test('every locked dependency runs on the oldest Node dccd promises', () => {
  const oldest = version(/>=\s*([\d.]+)/.exec(pkg.engines.node)![1]!);
  const lock = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package-lock.json'), 'utf8'));
  const refusing = Object.entries(lock.packages as Record<string, { engines?: { node?: string } }>)
    .filter(([path, p]) => path && p.engines?.node && !admits(p.engines.node, oldest))
    .map(([path, p]) => `${path} requires node ${p.engines!.node}`);
  assert.deepEqual(refusing, []);
});

test('the engines check reads the ranges packages use', () => {
  const v = version('20.3.0');
  assert.equal(admits('>=22', v), false);
  assert.equal(admits('>=18', v), true);
  assert.equal(admits('^18.17.0 || >=20.5.0', v), false);
  assert.equal(admits('^18.17.0 || >=20.0.0', v), true);
  assert.equal(admits('>= 14', v), true);
  assert.equal(admits('20.x', v), true);
  assert.equal(admits('20 || >=22', v), true);
  assert.equal(admits('18 || >=22', v), false);
  assert.equal(admits('20.3.0', v), true);
  assert.equal(admits('20.4', v), false);
  assert.equal(admits('6.* || 8.* || >= 10.*', v), true);
  assert.equal(admits('6.* || 8.*', v), false);
});
