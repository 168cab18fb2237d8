// What a complete stream of Binance trades holds: the simulator's trades from the first id
// streamed to the last, each once.
import type { TradeRow } from '../../src/domain/records.ts';
import type { Sim } from '../../src/sim/index.ts';

export function streamedTruth(sim: Sim, symbol: string, rows: TradeRow[]): TradeRow[] {
  const truth = sim.truth({ exchange: 'binance', symbol, kind: 'trades', start: rows[0]!.ts, end: rows.at(-1)!.ts + 1n, withRows: true });
  const [first, last] = [BigInt(rows[0]!.tradeId), BigInt(rows.at(-1)!.tradeId)];
  return (truth.records as TradeRow[]).filter((t) => BigInt(t.tradeId) >= first && BigInt(t.tradeId) <= last);
}
