// Where the CPU goes: aggregates V8 .cpuprofile files (node --cpu-prof) by function self
// time and by area (a src/ folder, a package, Node internals, GC, idle), so a profile of a
// benchmark reads as a short table. Usage, e.g. for the trades backfill:
//   BENCH_RUNS=1 BENCH_CASE=trades BENCH_ONLY=full node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/backfill-overhead.ts
//   node --import tsx bench/profile-summary.ts /tmp/prof [--top 25]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The part of the code a frame belongs to: a folder of this repo, a package, or V8/Node. */
function areaOf(f: CallFrame): string {
  if (!f.url) return f.functionName.startsWith('(') ? f.functionName : '(native)';
  if (f.url.startsWith('node:')) return 'node internals';
  const path = f.url.startsWith('file://') ? fileURLToPath(f.url) : f.url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1]!;
  const rel = relative(ROOT, path);
  return rel.startsWith('..') ? path : rel.split('/').slice(0, 2).join('/');
}

// tsx compiles each module to one line, so its line numbers say nothing; the file does.
function label(f: CallFrame): string {
  const file = f.url.startsWith('file://') ? relative(ROOT, fileURLToPath(f.url)) : f.url;
  const where = file && f.lineNumber > 0 ? `${file}:${f.lineNumber + 1}` : file;
  return `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
}

const isOurs = (f: CallFrame): boolean => /^(src|bench)\//.test(areaOf(f));

interface SelfTimes {
  byFunction: Map<string, number>;
  byArea: Map<string, number>;
  /** Self time charged to the innermost function of src/ or bench/ on the stack: what our code causes. */
  byOwnCaller: Map<string, number>;
  totalUs: number;
}

function selfTimes(p: CpuProfile): SelfTimes {
  const frames = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ownCaller = new Map<number, string | null>();
  const callerOf = (id: number): string | null => {
    let found = ownCaller.get(id);
    if (found === undefined) {
      const f = frames.get(id)!;
      const up = parent.get(id);
      found = isOurs(f) ? label(f) : up === undefined ? null : callerOf(up);
      ownCaller.set(id, found);
    }
    return found;
  };
  const t: SelfTimes = { byFunction: new Map(), byArea: new Map(), byOwnCaller: new Map(), totalUs: 0 };
  const add = (m: Map<string, number>, k: string, us: number) => m.set(k, (m.get(k) ?? 0) + us);
  p.samples.forEach((id, i) => {
    const f = frames.get(id)!;
    const us = p.timeDeltas[i] ?? 0;
    t.totalUs += us;
    add(t.byFunction, label(f), us);
    add(t.byArea, areaOf(f), us);
    const area = areaOf(f);
    add(t.byOwnCaller, callerOf(id) ?? (area.startsWith('(') ? area : `${area}, no src/ caller (callbacks, module loading)`), us);
  });
  return t;
}

function profilesIn(args: string[]): string[] {
  return args.flatMap((a) => (statSync(a).isDirectory() ? readdirSync(a).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(a, f)) : [a]));
}

function table(title: string, m: Map<string, number>, totalUs: number, busyUs: number, top: number): void {
  console.log(`  ${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const busy = k === '(idle)' ? '' : `${((us / busyUs) * 100).toFixed(1).padStart(5)} % of busy`;
    console.log(`    ${(us / 1000).toFixed(0).padStart(7)} ms ${((us / totalUs) * 100).toFixed(1).padStart(5)} %  ${busy.padEnd(16)} ${k}`);
  }
}

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 20;
if (args.length === 0) throw new Error('usage: profile-summary.ts <dir or .cpuprofile>... [--top N]');
for (const file of profilesIn(args)) {
  const { byFunction, byArea, byOwnCaller, totalUs } = selfTimes(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  const busyUs = totalUs - (byArea.get('(idle)') ?? 0);
  console.log(`${file}: ${(totalUs / 1e6).toFixed(1)} s sampled, ${(busyUs / 1e6).toFixed(1)} s busy`);
  table('self time by area', byArea, totalUs, busyUs, top);
  table('self time by function', byFunction, totalUs, busyUs, top);
  table('self time by the innermost src/ or bench/ function on the stack', byOwnCaller, totalUs, busyUs, top);
}
