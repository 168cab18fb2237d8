// Whether dist/ holds a build of the sources as they are now: `npm run build` stamps
// dist/.built last, and no source file may be newer than that stamp.
import { existsSync, readdirSync, statSync } from 'node:fs';

const stamp = new URL('../dist/.built', import.meta.url);
const src = new URL('../src/', import.meta.url);

export function buildIsCurrent() {
  if (!existsSync(stamp)) return false;
  // An installed package ships dist/ alone: nothing to compare with.
  if (!existsSync(src)) return true;
  const built = statSync(stamp).mtimeMs;
  return readdirSync(src, { recursive: true }).every((f) => statSync(new URL(f, src)).mtimeMs <= built);
}
