// Counters a test reads to check how a client behaved against a venue: how many requests,
// the heaviest weight window, rate-limit answers, server errors and injected faults.

export interface SimStats {
  requests: number;
  /** Highest request weight used within one rate-limit window. */
  weightUsedMax: number;
  /** Weight used in each rate-limit window, keyed by the window's start (ISO time). */
  weightByWindow: Record<string, number>;
  status429: number;
  status418: number;
  status5xx: number;
  /** Injected faults by kind (status429, status5xx, timeout, truncated, malformed, duplicateBoundary, shortPage, dropSocket, stallSocket, sequenceGap, slowConsumer). */
  faultsInjected: Record<string, number>;
  /** Requests by path below the venue prefix (merged stats: with the prefix). */
  byPath: Record<string, number>;
  wsConnections: number;
  wsMessages: number;
  /** Pings the WebSocket server sent. */
  wsPings: number;
  /** Connections the server cut for breaking a venue rule, by rule (pongTimeout, messageRate). */
  wsCut: Record<string, number>;
}

export class StatsRecorder {
  private s: SimStats = emptyStats();

  request(path: string): void {
    this.s.requests++;
    this.s.byPath[path] = (this.s.byPath[path] ?? 0) + 1;
  }

  status(code: number): void {
    if (code === 429) this.s.status429++;
    else if (code === 418) this.s.status418++;
    else if (code >= 500) this.s.status5xx++;
  }

  fault(kind: string): void {
    this.s.faultsInjected[kind] = (this.s.faultsInjected[kind] ?? 0) + 1;
  }

  weightUsed(used: number, windowStartMs: number): void {
    if (used > this.s.weightUsedMax) this.s.weightUsedMax = used;
    const key = new Date(windowStartMs).toISOString();
    if (used > (this.s.weightByWindow[key] ?? 0)) this.s.weightByWindow[key] = used;
  }

  wsConnection(): void {
    this.s.wsConnections++;
  }

  wsMessage(): void {
    this.s.wsMessages++;
  }

  wsPing(): void {
    this.s.wsPings++;
  }

  wsCut(rule: string): void {
    this.s.wsCut[rule] = (this.s.wsCut[rule] ?? 0) + 1;
  }

  snapshot(): SimStats {
    return structuredClone(this.s);
  }

  reset(): void {
    this.s = emptyStats();
  }
}

export function emptyStats(): SimStats {
  return {
    requests: 0,
    weightUsedMax: 0,
    weightByWindow: {},
    status429: 0,
    status418: 0,
    status5xx: 0,
    faultsInjected: {},
    byPath: {},
    wsConnections: 0,
    wsMessages: 0,
    wsPings: 0,
    wsCut: {},
  };
}

/** Sums the stats of several venues; paths get their venue prefix ('/binance/api/v3/klines'). */
export function mergeStats(byVenue: Record<string, SimStats>): SimStats {
  const out = emptyStats();
  for (const [venue, s] of Object.entries(byVenue)) {
    out.requests += s.requests;
    out.weightUsedMax = Math.max(out.weightUsedMax, s.weightUsedMax);
    out.status429 += s.status429;
    out.status418 += s.status418;
    out.status5xx += s.status5xx;
    out.wsConnections += s.wsConnections;
    out.wsMessages += s.wsMessages;
    out.wsPings += s.wsPings;
    for (const [k, n] of Object.entries(s.wsCut)) out.wsCut[k] = (out.wsCut[k] ?? 0) + n;
    for (const [k, n] of Object.entries(s.faultsInjected)) out.faultsInjected[k] = (out.faultsInjected[k] ?? 0) + n;
    for (const [p, n] of Object.entries(s.byPath)) out.byPath[`/${venue}${p}`] = n;
    for (const [w, n] of Object.entries(s.weightByWindow)) out.weightByWindow[w] = (out.weightByWindow[w] ?? 0) + n;
  }
  return out;
}
