// `node --import ./record-imports.mjs …`: prints `IMPORT <url>` on stderr for every module
// the process loads through ESM, so a test can tell which code a command ran and loaded.
import { register } from 'node:module';

register('data:text/javascript,' + encodeURIComponent(`
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  process.stderr.write('IMPORT ' + r.url + '\\n');
  return r;
}`));
