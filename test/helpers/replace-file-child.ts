// One config file replacement in a process of its own, for a test that runs it on a disk that
// fills up (disk-faults.ts). Usage: replace-file-child.ts <file>. Writes a small file, then
// tries to replace it with one larger than the disk, and prints one JSON line: the error,
// whether the old file is intact, and the files left beside it.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { replaceFile } from '../../src/config/config-file-edits.ts';

const [file] = process.argv.slice(2) as [string];
const old = 'jobs: []\n';
writeFileSync(file, old);
let error = '';
try {
  await replaceFile(file, `# ${'x'.repeat(1 << 20)}\njobs: []\n`);
} catch (e) {
  error = (e as Error).message;
}
console.log(JSON.stringify({ error, kept: readFileSync(file, 'utf8') === old, files: readdirSync(dirname(file)) }));
