#!/usr/bin/env node
// dccd runs the JavaScript that `npm ci` (prepare) or `npm run build` compiled into dist/.
// A source tree changed since that build runs its TypeScript through tsx instead, so an
// edit is never hidden behind a stale build.
import { buildIsCurrent } from './build-is-current.js';

if (buildIsCurrent()) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
