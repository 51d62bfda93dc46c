import type { RiskBand } from './bundle-schema';

/** Index of the band whose range holds `score` (bands ascend by minScore; the first starts at 0). */
export function riskBandIndex(bands: readonly RiskBand[], score: number): number {
  let index = 0;
  while (index + 1 < bands.length && score >= bands[index + 1]!.minScore) index++;
  return index;
}

/** Name of the band whose range holds `score`. */
export function riskBandOf(bands: readonly RiskBand[], score: number): string {
  return bands[riskBandIndex(bands, score)]?.name ?? 'unknown';
}
