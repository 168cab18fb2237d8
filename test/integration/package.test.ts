// The package as a user installs and builds it: `npm run build` works, and no locked
// dependency asks for a newer Node than the one dccd promises (npm ci would warn EBADENGINE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/worker/temporal-binary.ts';

const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8'));

test('npm run build compiles dccd into dist/, and the built command runs', () => {
  const build = spawnSync('npm', ['run', 'build'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stdout + build.stderr);
  assert.equal(execFileSync(process.execPath, [join(PROJECT_ROOT, 'dist', 'cli', 'main.js'), '--version'], { encoding: 'utf8' }).trim(), pkg.version);
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
            return /[x*]/.test(m[2]!) ? v[0] === want[0] : d === 0;
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
  assert.equal(admits('6.* || 8.* || >= 10.*', v), true);
  assert.equal(admits('6.* || 8.*', v), false);
});
