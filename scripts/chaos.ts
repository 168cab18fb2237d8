// `npm run test:chaos`: many crash trials with random kill points. Prints one line per trial
// and a summary `trials, kills, exact matches`; exits non-zero unless every trial is exact.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTrial, type KillTarget } from '../test/chaos/crash-harness.ts';

const TRIALS = Number(process.env.CHAOS_TRIALS ?? 21);
const KILLS_PER_TRIAL = Number(process.env.CHAOS_KILLS ?? 5);

// Each trial kills one kind of process, or a mix; datasets alternate.
const MODES: KillTarget[][] = [['worker'], ['server'], ['start'], ['worker', 'server']];

let kills = 0;
let exact = 0;
const points: Record<string, number> = {};
const t0 = Date.now();
for (let i = 0; i < TRIALS; i++) {
  const mode = MODES[i % MODES.length]!;
  const plan = Array.from({ length: KILLS_PER_TRIAL }, () => mode[Math.floor(Math.random() * mode.length)]!);
  const dataset = i % 2 === 0 ? 'ohlc' : 'trades';
  const data = mkdtempSync(join(tmpdir(), 'dccd-chaos-'));
  try {
    const r = await runTrial({ kills: plan, dataset, seed: 100 + i, killEveryMs: [800, 3500], data });
    kills += r.kills;
    if (r.exact) exact++;
    for (const p of r.killPoints) points[p] = (points[p] ?? 0) + 1;
    console.log(`trial ${i + 1}/${TRIALS} ${dataset} ${r.exact ? 'exact' : 'MISMATCH'}: ${r.kills} kills (${r.killPoints.join(', ')}), ${r.pages} pages; ${r.detail}`);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
}
console.log(`kill points: ${Object.entries(points).map(([k, n]) => `${k} ${n}`).join(', ')}`);
console.log(`trials ${TRIALS}, kills ${kills}, exact matches ${exact}/${TRIALS}  (${((Date.now() - t0) / 60_000).toFixed(1)} min)`);
process.exit(exact === TRIALS ? 0 : 1);
