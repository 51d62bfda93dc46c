import { z } from 'zod';
import { driftSettingsSchema, type OnDriftAction, type ReferenceProfile } from '@churn/model-bundle';
import type { DriftHistograms } from './drift-histograms';
import { jensenShannonDistance, populationStabilityIndex, PSI_EPSILON } from './drift-statistics';

/** Severity of a drift figure against its thresholds, in increasing order. */
export const DRIFT_STATUSES = ['ok', 'warn', 'alert'] as const;
export type DriftStatus = (typeof DRIFT_STATUSES)[number];
const statusSchema = z.enum(DRIFT_STATUSES);

/** The bundle's drift settings without the gate: what computeDrift compares against. */
export const driftThresholdsSchema = driftSettingsSchema.omit({ onDrift: true });
export type DriftThresholds = z.output<typeof driftThresholdsSchema>;

/** A statistic that is null when the run or the reference has no rows to compare. */
const statistic = z.number().nullable();
const counts = z.array(z.number().int().min(0));

export const featureDriftSchema = z
  .object({
    id: z.string(),
    psi: statistic,
    jsDistance: statistic,
    nullRate: z.number().min(0).max(1),
    referenceNullRate: z.number().min(0).max(1),
    /** nullRate - referenceNullRate. */
    nullRateChange: z.number(),
    status: statusSchema,
    /** The run's counts and the reference's, in the reference bins. */
    counts,
    referenceCounts: counts,
  })
  .strict();

export const driftReportSchema = z
  .object({
    formatVersion: z.literal(1),
    /** The worst status of any feature, the score and the quarantine rate. */
    status: statusSchema,
    /** Ids of what alerts / warns: feature ids, `score`, `quarantine_rate`. */
    alerts: z.array(z.string()),
    warnings: z.array(z.string()),
    thresholds: driftThresholdsSchema.required(),
    /** The floor on bin shares inside PSI. */
    psiEpsilon: z.number(),
    rows: z.number().int().min(0),
    referenceRows: z.number().int().min(0),
    features: z.array(featureDriftSchema),
    /** Model features the reference profile has no bins for (no drift computed). */
    unprofiled: z.array(z.string()),
    score: z
      .object({ psi: statistic, jsDistance: statistic, status: statusSchema, edges: z.array(z.number()), counts, referenceCounts: counts })
      .strict(),
    quarantine: z
      .object({ rate: z.number().min(0).max(1), referenceRate: z.number().min(0).max(1), change: z.number(), status: statusSchema })
      .strict(),
  })
  .strict();

export type DriftReport = z.output<typeof driftReportSchema>;
export type FeatureDrift = z.output<typeof featureDriftSchema>;

export interface DriftRates {
  /** Quarantined rows / rows read, for the run. */
  quarantineRate: number;
  /** The same for the reference snapshot; default the profile's `quarantineRate`, else 0. */
  referenceQuarantineRate?: number;
}

function severity(value: number | null, warn: number, alert: number): DriftStatus {
  if (value === null) return 'ok';
  return value >= alert ? 'alert' : value >= warn ? 'warn' : 'ok';
}

function worst(...statuses: DriftStatus[]): DriftStatus {
  return statuses.reduce((a, b) => (DRIFT_STATUSES.indexOf(b) > DRIFT_STATUSES.indexOf(a) ? b : a), 'ok');
}

/**
 * Drift of a run against the training reference, from the merged histograms of its shards:
 * per feature PSI, Jensen-Shannon distance and null-rate change, the same for the score, and
 * the quarantine rate against the reference's, each with a status against `thresholds`
 * (missing thresholds take the bundle defaults: PSI 0.1 warn, 0.25 alert). `thresholds` may be
 * the bundle's `drift` section with per-run overrides spread over it.
 */
export function computeDrift(
  reference: ReferenceProfile,
  histograms: DriftHistograms,
  thresholds: Partial<DriftThresholds> & { onDrift?: OnDriftAction },
  rates: DriftRates,
): DriftReport {
  // The bundle's whole drift section may be passed; the gate is the caller's business.
  const { onDrift: _gate, ...given } = thresholds;
  const t = driftThresholdsSchema.parse(given);
  const features: FeatureDrift[] = [];
  const unprofiled = [...histograms.unprofiled];
  for (const [id, histogram] of Object.entries(histograms.features)) {
    const profile = reference.features[id];
    if (!profile) {
      unprofiled.push(id);
      continue;
    }
    const total = histogram.counts.reduce((a, b) => a + b, 0);
    const nullRate = total > 0 ? histogram.nulls / total : 0;
    const nullRateChange = nullRate - profile.nullRate;
    const psi = populationStabilityIndex(histogram.counts, profile.counts);
    features.push({
      id,
      psi,
      jsDistance: jensenShannonDistance(histogram.counts, profile.counts),
      nullRate,
      referenceNullRate: profile.nullRate,
      nullRateChange,
      status: worst(severity(psi, t.psiWarn, t.psiAlert), severity(total > 0 ? Math.abs(nullRateChange) : null, t.nullRateWarn, t.nullRateAlert)),
      counts: histogram.counts,
      referenceCounts: profile.counts,
    });
  }
  const scorePsi = populationStabilityIndex(histograms.score.counts, reference.score.counts);
  const score = {
    psi: scorePsi,
    jsDistance: jensenShannonDistance(histograms.score.counts, reference.score.counts),
    status: severity(scorePsi, t.psiWarn, t.psiAlert),
    edges: reference.score.edges,
    counts: histograms.score.counts,
    referenceCounts: reference.score.counts,
  };
  const referenceRate = rates.referenceQuarantineRate ?? reference.quarantineRate ?? 0;
  const change = rates.quarantineRate - referenceRate;
  // Only a rise is drift: fewer broken rows than at training is good news.
  const quarantine = { rate: rates.quarantineRate, referenceRate, change, status: severity(change, t.quarantineRateWarn, t.quarantineRateAlert) };

  const named = [...features.map((f) => [f.id, f.status] as const), ['score', score.status] as const, ['quarantine_rate', quarantine.status] as const];
  return {
    formatVersion: 1,
    status: worst(...named.map(([, s]) => s)),
    alerts: named.filter(([, s]) => s === 'alert').map(([id]) => id),
    warnings: named.filter(([, s]) => s === 'warn').map(([id]) => id),
    thresholds: t,
    psiEpsilon: PSI_EPSILON,
    rows: histograms.rows,
    referenceRows: reference.rows,
    features,
    unprofiled,
    score,
    quarantine,
  };
}
