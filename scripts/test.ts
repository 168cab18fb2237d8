// `npm test`: builds dist/ when the sources changed since the last build (the CLI tests run
// bin/dccd.js as users do, which runs the build), starts one in-memory Temporal dev server
// for the whole run (tests read its address from DCCD_TEST_TEMPORAL_ADDRESS), runs every test
// file with Node's test runner, two files at a time (each has its own namespace, task queue,
// data folder and database schema; most of a file's time is spent waiting on streams and
// workflows), then stops the server. Extra arguments are passed to the
// runner (e.g. a file list).
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildIsCurrent } from '../bin/build-is-current.js';
import { startEmbeddedServer } from '../src/worker/embedded-stack.ts';
import { PROJECT_ROOT } from '../src/prepared-files.ts';
import { freePort } from '../test/helpers/ports.ts';

const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const testFiles = files.length
  ? files
  : (readdirSync(join(PROJECT_ROOT, 'test'), { recursive: true }) as string[])
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => relative(PROJECT_ROOT, join(PROJECT_ROOT, 'test', f)))
      .sort();

if (!buildIsCurrent()) execFileSync('npm', ['run', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
const server = await startEmbeddedServer({ port: await freePort() });
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...flags, ...testFiles], {
  cwd: PROJECT_ROOT,
  stdio: 'inherit',
  env: { ...process.env, DCCD_TEST_TEMPORAL_ADDRESS: server.address },
});
const forward = (s: NodeJS.Signals) => child.kill(s);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
const code = await new Promise<number>((res) => child.once('exit', (c, sig) => res(c ?? (sig ? 1 : 0))));
await server.stop();
process.exit(code);
