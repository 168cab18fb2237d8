// Every simulated venue by its URL prefix (/binance/...). Adding a venue is a module
// src/sim/<venue>.ts exporting a VenueFactory, and one line here.
import { createBinanceVenue } from './binance.ts';
import type { VenueFactory } from './venue.ts';

export const VENUES: Readonly<Record<string, VenueFactory>> = {
  binance: createBinanceVenue,
};
