// What this dccd can do with each venue: the venue's declarations (sources/<venue>.ts), with
// live streams narrowed to the kinds the adapter has a stream for. A venue may offer a stream
// that is not built here yet; the capability table and the checks say only what runs.
import type { ExchangeCapabilities } from '../domain/capabilities.ts';
import { KINDS, type Kind } from '../domain/target.ts';
import type { ExchangeAdapter } from '../sources/adapter.ts';

/** The kinds `adapter` streams: declared by the venue and implemented by the adapter. */
export function streamedKinds(adapter: ExchangeAdapter): Kind[] {
  return KINDS.filter((k) => adapter.capabilities.stream[k] !== undefined && adapter.streams?.[k] !== undefined);
}

/** The capability table of a venue as this dccd serves it. */
export function servedCapabilities(adapter: ExchangeAdapter): ExchangeCapabilities {
  const { stream, ...rest } = adapter.capabilities;
  return { ...rest, stream: Object.fromEntries(streamedKinds(adapter).map((k) => [k, stream[k]])) };
}
