import type { RiskBand } from './bundle-schema';

/** The band whose range holds `score` (bands are ascending by minScore, the first starts at 0). */
export function riskBandOf(bands: readonly RiskBand[], score: number): string {
  let name = bands[0]?.name ?? 'unknown';
  for (const band of bands) {
    if (score >= band.minScore) name = band.name;
    else break;
  }
  return name;
}
