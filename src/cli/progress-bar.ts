// The progress line `dccd backfill --wait` redraws: time covered, rows, rate.
import type { BackfillProgress } from '../domain/job.ts';
import { isoFromNs } from '../domain/time.ts';

// The whole line fits 80 columns: a wrapped line cannot be redrawn in place.
const WIDTH = 13;

export function renderProgress(p: BackfillProgress, elapsedMs: number): string {
  const start = p.startNs ? BigInt(p.startNs) : undefined;
  const end = p.endNs ? BigInt(p.endNs) : undefined;
  const current = p.currentNs ? BigInt(p.currentNs) : start;
  let share = 0;
  if (start !== undefined && end !== undefined && current !== undefined && end > start) {
    share = Number(((current - start) * 10_000n) / (end - start)) / 10_000;
  }
  const filled = Math.round(share * WIDTH);
  const bar = `${'='.repeat(filled)}${filled < WIDTH ? '>' : ''}${' '.repeat(Math.max(0, WIDTH - filled - 1))}`;
  const rate = elapsedMs > 0 ? Math.round((p.rowsWritten * 1000) / elapsedMs) : 0;
  const at = current !== undefined ? isoFromNs(current).slice(0, 16).replace('T', ' ') : '…';
  // While stopping, that matters more than the rate.
  const pace = p.state === 'stopping' ? 'stopping' : `${rate.toLocaleString('en-US')}/s`;
  return `[${bar}] ${(share * 100).toFixed(1).padStart(5)}% ${at} ${p.rowsWritten.toLocaleString('en-US')} rows ${pace} ${p.windowsDone}/${p.windowsTotal} windows`;
}
