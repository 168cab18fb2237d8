import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkDataFolder, checkOutFile } from '../../src/config/path-checks.ts';
import { ValidationError } from '../../src/domain/errors.ts';

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'dccd-paths-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function refusal(check: Promise<void>): Promise<string> {
  try {
    await check;
  } catch (e) {
    assert.ok(e instanceof ValidationError, String(e));
    return e.message;
  }
  return assert.fail('the path was accepted');
}

test('a data folder to write is created level by level and proved writable, leaving only .dccd/', async (t) => {
  const dir = scratch(t);
  const data = join(dir, 'a', 'b', 'data');
  await checkDataFolder(data, { write: true });
  assert.deepEqual(readdirSync(data), ['.dccd']);
  assert.deepEqual(readdirSync(join(data, '.dccd')), []);
  await checkDataFolder(data, { write: true }); // and again, once it exists
});

test('a data folder that is a file, or lies under one, is refused naming data and the path', async (t) => {
  const file = join(scratch(t), 'file');
  writeFileSync(file, 'x');
  assert.equal(await refusal(checkDataFolder(file, { write: true })), `data: ${file} is a file, not a folder`);
  assert.equal(await refusal(checkDataFolder(file, { write: false })), `data: ${file} is a file, not a folder`);
  assert.equal(await refusal(checkDataFolder(join(file, 'data'), { write: true })), `data: cannot create ${file}/data: ${file} is a file, not a folder`);
  assert.equal(await refusal(checkDataFolder(join(file, 'data'), { write: false })), `data: cannot read ${file}/data: ${file} is a file, not a folder`);
});

// procfs answers mkdir with ENOENT although /proc exists, on which Node's recursive mkdir loops forever.
test('a data folder under /proc or /sys is refused at once, not spun on', { timeout: 10_000 }, async () => {
  assert.equal(await refusal(checkDataFolder('/proc/x', { write: true })), 'data: cannot create /proc/x (ENOENT: /proc does not accept new folders)');
  assert.equal(await refusal(checkDataFolder('/proc/x/y/data', { write: true })), 'data: cannot create /proc/x (ENOENT: /proc does not accept new folders)');
  assert.equal(await refusal(checkDataFolder('/proc', { write: true })), 'data: /proc is not writable (ENOENT: /proc does not accept new folders)');
  assert.equal(await refusal(checkDataFolder('/sys/x', { write: true })), 'data: cannot create /sys/x (EPERM: operation not permitted)');
  assert.equal(await refusal(checkDataFolder('/sys', { write: true })), 'data: /sys is not writable (EPERM: operation not permitted)');
});

test('a data folder only read may be missing, and is not created', async (t) => {
  const data = join(scratch(t), 'data');
  await checkDataFolder(data, { write: false });
  await checkDataFolder('/proc/x', { write: false });
  assert.equal(existsSync(data), false);
});

test('an output file must be a file in a folder that exists and takes new files', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'file');
  writeFileSync(file, 'x');
  assert.equal(await refusal(checkOutFile(dir, '--out')), `--out: ${dir} is a folder (EISDIR)`);
  assert.equal(await refusal(checkOutFile(join(dir, 'no', 'such', 'x.csv'), '--out')), `--out: cannot write ${dir}/no/such/x.csv: folder ${dir}/no/such does not exist (ENOENT)`);
  assert.equal(await refusal(checkOutFile(join(file, 'x.csv'), '--out')), `--out: cannot write ${file}/x.csv: ${file} is a file, not a folder (ENOTDIR)`);
  assert.equal(await refusal(checkOutFile('/proc/x.csv', '--out')), '--out: cannot write /proc/x.csv (ENOENT: /proc does not accept new files)');
  assert.equal(await refusal(checkOutFile('/sys/x.csv', '--out')), '--out: cannot write /sys/x.csv (EACCES: permission denied)');
  mkdirSync(join(dir, 'ok'));
  await checkOutFile(join(dir, 'ok', 'x.csv'), '--out');
  await checkOutFile(file, '--out'); // an existing file is replaced
  assert.deepEqual(readdirSync(join(dir, 'ok')), [], 'no probe left behind');
});
