import { ChurnError } from '@churn/errors';
import { explainAdaptiveSampling } from './adaptive-sampling';
import { runInChunks } from './evaluation-chunks';
import { exactByNetwork, exactPlan } from './exact-shapley';
import type { ExplanationMethod, MethodRun } from './explain-method';
import type { ExplainMethod, ModelEvaluator } from './explain-types';
import { explainLinear } from './linear-attribution';
import { logit } from './output-space';
import { explainTrees } from './tree-shap';

async function chunked(model: ModelEvaluator, run: MethodRun, plan: ReturnType<typeof exactPlan>) {
  const result = await runInChunks(model, plan, run.rows, run.baseline, run.minBatch);
  return { baseValue: run.logitSpace ? logit(result.baseline) : result.baseline, evaluations: result.evaluations, evaluateCalls: result.evaluateCalls };
}

/** Exact Shapley over a dense network's coalition walk: one evaluate() call, for f(baseline). */
async function exactOverNetwork(model: ModelEvaluator, run: MethodRun) {
  const baseline = (await model.evaluate(run.baseline, 1))[0]!;
  const evaluations = exactByNetwork({
    ...common(run),
    network: model.network!,
    baselineValue: baseline,
    rows: run.rows,
    ...(run.options.maxExactPlayers ? { maxPlayers: run.options.maxExactPlayers } : {}),
  });
  return { baseValue: run.logitSpace ? logit(baseline) : baseline, evaluations: evaluations + 1, evaluateCalls: 1 };
}

function common(run: MethodRun) {
  const { layout, width, features, scores, baseline, logitSpace, contributions } = run;
  return { layout, width, features, scores, baseline, logitSpace, contributions };
}

/** TreeSHAP: exact interventional Shapley values from the trees' structure (tree-shap.ts). */
export const treeMethod: ExplanationMethod = {
  name: 'tree',
  usesRowKeys: false,
  auto: true,
  requirement: 'a tree-ensemble model (an ONNX TreeEnsembleClassifier or TreeEnsembleRegressor graph)',
  supports: (model) => model.trees !== undefined,
  explain: (model, run) => explainTrees(model, run),
};

/** Permutation-sampling Shapley with antithetic pairs (sampling-shapley.ts): any model. */
export const samplingMethod: ExplanationMethod = {
  name: 'sampling',
  usesRowKeys: true,
  auto: true,
  requirement: 'any model',
  supports: () => true,
  explain: (model, run) => explainAdaptiveSampling(model, run),
};

/** All coalitions (exact-shapley.ts): any model with few players. */
export const exactMethod: ExplanationMethod = {
  name: 'exact',
  usesRowKeys: false,
  auto: false,
  requirement: 'any model',
  supports: () => true,
  explain: (model, run) =>
    model.network ? exactOverNetwork(model, run) : chunked(model, run, exactPlan({ ...common(run), ...(run.options.maxExactPlayers ? { maxPlayers: run.options.maxExactPlayers } : {}) })),
};

/** Closed form in logit space (linear-attribution.ts): exact for logistic regression only. */
export const linearMethod: ExplanationMethod = {
  name: 'linear',
  usesRowKeys: false,
  auto: false,
  requirement: 'any model (exact only for models linear in logit space)',
  supports: () => true,
  async explain(model, run) {
    const result = await explainLinear(model, { ...common(run), rows: run.rows });
    return { baseValue: result.baseValue, evaluations: result.evaluations, evaluateCalls: 1, linearResidual: result.residual };
  },
};

/** The registry, in `auto`'s order of preference. A new method plugs in here. */
export const EXPLANATION_METHODS: readonly ExplanationMethod[] = [treeMethod, samplingMethod, exactMethod, linearMethod];

/**
 * The method a name stands for on this model: `auto` is the first auto candidate that supports
 * it; a named method must support it.
 *
 * @throws ChurnError INVALID_ARGUMENT for an unknown name or a method that cannot explain the model.
 */
export function resolveExplanationMethod(name: ExplainMethod, model: ModelEvaluator): ExplanationMethod {
  if (name === 'auto') {
    const method = EXPLANATION_METHODS.find((m) => m.auto && m.supports(model));
    if (!method) throw new ChurnError('INVALID_ARGUMENT', 'no explanation method supports this model');
    return method;
  }
  const method = EXPLANATION_METHODS.find((m) => m.name === name);
  if (!method) {
    throw new ChurnError('INVALID_ARGUMENT', `unknown explanation method "${String(name)}"; use auto, ${EXPLANATION_METHODS.map((m) => m.name).join(', ')}`, { details: { method: name } });
  }
  if (!method.supports(model)) {
    const others = EXPLANATION_METHODS.filter((m) => m.supports(model)).map((m) => m.name);
    throw new ChurnError('INVALID_ARGUMENT', `explanation method ${name} needs ${method.requirement}, and this model is not one; use auto or one of ${others.join(', ')}`, {
      details: { method: name, supported: others },
      settings: ['explainMethod'],
    });
  }
  return method;
}
