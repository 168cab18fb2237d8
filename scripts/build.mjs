// `npm run build` (run by `npm ci` through prepare): compiles src/ into dist/, prepares what
// would otherwise cost every start seconds (the workflow bundle, the embedded database's
// template), and stamps the build so bin/dccd.js knows it is current.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
// A clean dist/: files of modules since removed would linger, and the prepared files are remade.
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
const { workflowBundle } = await import('../dist/worker/workflow-bundle.js');
const { pgliteTemplate } = await import('../dist/storage/embedded-postgres.js');
const { MANIFEST_SCHEMA } = await import('../dist/storage/coverage-store.js');
await Promise.all([workflowBundle(), pgliteTemplate(MANIFEST_SCHEMA)]);
writeFileSync(new URL('../dist/.built', import.meta.url), `${new Date().toISOString()}\n`);
