// Prices and quantities live as integers (ticks, lots, tick×lot units) so that every sum the
// simulator serves is exact; they become decimal strings only at the edge.
import { ValidationError } from '../domain/errors.ts';

/** Number of decimals of a step that must be a power of ten (0.01 → 2, 1 → 0). */
export function decimalsOfStep(step: number, field: string): number {
  for (let d = 0; d <= 12; d++) {
    if (Math.abs(step * 10 ** d - 1) < 1e-9) return d;
  }
  throw new ValidationError(field, `${step} is not a power of ten between 1 and 1e-12`);
}

/**
 * Formats an integer count of 10^-unitDecimals as a decimal string with exactly
 * `outDecimals` digits after the point (outDecimals >= unitDecimals, so nothing is lost):
 * formatUnits(400012, 2, 8) === '4000.12000000'.
 */
export function formatUnits(units: number | bigint, unitDecimals: number, outDecimals: number): string {
  const digits = units.toString();
  if (unitDecimals === 0) return outDecimals === 0 ? digits : `${digits}.${'0'.repeat(outDecimals)}`;
  const padded = digits.padStart(unitDecimals + 1, '0');
  const int = padded.slice(0, -unitDecimals);
  const frac = padded.slice(-unitDecimals).padEnd(outDecimals, '0');
  return `${int}.${frac}`;
}
