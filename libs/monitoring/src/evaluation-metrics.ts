import { z } from 'zod';
import { ChurnError } from '@churn/errors';
import { rocAuc } from './roc-auc';

/** Groups of equal size (by rank of the score) in the calibration table. */
export const CALIBRATION_GROUPS = 10;

const rate = z.number().min(0).max(1);

export const calibrationBinSchema = z
  .object({
    /** 1 = the lowest scores. */
    decile: z.number().int().min(1),
    rows: z.number().int().min(0),
    minScore: z.number(),
    maxScore: z.number(),
    meanScore: z.number(),
    /** Share of the group's rows whose label is 1. */
    observedRate: rate,
  })
  .strict();

export const evaluationMetricsSchema = z
  .object({
    rows: z.number().int().min(1),
    positives: z.number().int().min(0),
    positiveRate: rate,
    /** Null when only one class is present (AUC is undefined then). */
    auc: rate.nullable(),
    /** Mean squared error of P(churn) against the 0/1 label. */
    brier: rate,
    meanScore: z.number(),
    calibration: z.array(calibrationBinSchema),
    /** The highest risk band: rows at or above its minScore. Precision/recall null when undefined. */
    highBand: z
      .object({ name: z.string(), minScore: z.number(), rows: z.number().int().min(0), precision: rate.nullable(), recall: rate.nullable() })
      .strict(),
  })
  .strict();

export type EvaluationMetrics = z.output<typeof evaluationMetricsSchema>;

export interface EvaluationInput {
  scores: ArrayLike<number>;
  /** 0 or 1 per score. */
  labels: ArrayLike<number>;
  /** The band whose precision and recall are reported (usually the highest risk band). */
  highBand: { name: string; minScore: number };
}

/**
 * Realized performance of scores once outcomes are known: AUC, Brier score, calibration by
 * score decile (mean predicted vs observed rate) and the high band's precision and recall.
 */
export function evaluateScores(input: EvaluationInput): EvaluationMetrics {
  const { scores, labels, highBand } = input;
  const n = scores.length;
  if (n === 0) throw new ChurnError('INVALID_ARGUMENT', 'nothing to evaluate: no scored row has a label');
  const auc = rocAuc(scores, labels); // also checks lengths, NaN scores and 0/1 labels
  let positives = 0;
  let squares = 0;
  let sum = 0;
  let bandRows = 0;
  let bandPositives = 0;
  for (let i = 0; i < n; i++) {
    const p = scores[i]!;
    const y = labels[i]!;
    positives += y;
    squares += (p - y) * (p - y);
    sum += p;
    if (p >= highBand.minScore) {
      bandRows++;
      bandPositives += y;
    }
  }

  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const calibration: EvaluationMetrics['calibration'] = [];
  const groups = Math.min(CALIBRATION_GROUPS, n);
  for (let g = 0; g < groups; g++) {
    const start = Math.floor((g * n) / groups);
    const end = Math.floor(((g + 1) * n) / groups);
    let groupSum = 0;
    let groupPositives = 0;
    for (let k = start; k < end; k++) {
      groupSum += scores[order[k]!]!;
      groupPositives += labels[order[k]!]!;
    }
    const rows = end - start;
    calibration.push({
      decile: g + 1,
      rows,
      minScore: scores[order[start]!]!,
      maxScore: scores[order[end - 1]!]!,
      meanScore: groupSum / rows,
      observedRate: groupPositives / rows,
    });
  }

  return {
    rows: n,
    positives,
    positiveRate: positives / n,
    auc: Number.isNaN(auc) ? null : auc,
    brier: squares / n,
    meanScore: sum / n,
    calibration,
    highBand: {
      name: highBand.name,
      minScore: highBand.minScore,
      rows: bandRows,
      precision: bandRows > 0 ? bandPositives / bandRows : null,
      recall: positives > 0 ? bandPositives / positives : null,
    },
  };
}
