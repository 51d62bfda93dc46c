import { ChurnError } from '@churn/errors';
import { z } from 'zod';
import {
  bundleManifestSchema,
  driftSettingsSchema,
  eligibilitySchema,
  explainSettingsSchema,
  featureSchema,
  inputContractSchema,
  referenceProfileSchema,
  riskBandSchema,
  type BundleManifest,
  type FeatureSpec,
} from './bundle-schema';

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)), '') || '(root)';
}

/**
 * The sections the cross-field rules read. Features that failed their schema are `undefined`
 * (keeping the others' indices); a section that failed its schema is absent and its rules skipped.
 */
interface SemanticParts {
  features: readonly (FeatureSpec | undefined)[];
  segments?: readonly string[] | undefined;
  inputContract?: BundleManifest['inputContract'] | undefined;
  eligibility?: BundleManifest['eligibility'];
  riskBands?: BundleManifest['riskBands'] | undefined;
  reference?: BundleManifest['reference'];
  drift?: BundleManifest['drift'] | undefined;
  explain?: BundleManifest['explain'] | undefined;
}

/** Cross-field rules a per-field schema cannot express. Returns every problem found. */
export function semanticProblems(manifest: BundleManifest): string[] {
  return crossFieldProblems(manifest);
}

/** Score-table columns a segment may not shadow. */
const RESERVED_COLUMNS = new Set(['customer_id', 'as_of', 'score', 'risk_band', 'model_name', 'model_version', 'model_digest', 'run_id', 'scored_at', 'explained', 'base_value', 'model']);

function crossFieldProblems(manifest: SemanticParts): string[] {
  const problems: string[] = [];
  const contract = new Map((manifest.inputContract?.columns ?? []).map((c) => [c.name, c]));
  const seen = new Set<string>();
  const numericTypes = new Set(['integer', 'number', 'boolean']);

  const needColumn = (where: string, column: string, types?: Set<string>) => {
    if (!manifest.inputContract) return; // the contract itself is invalid: already reported
    const spec = contract.get(column);
    if (!spec) {
      problems.push(`${where}: column "${column}" is not declared in inputContract.columns; add it there`);
    } else if (types && !types.has(spec.type)) {
      problems.push(`${where}: column "${column}" has contract type ${spec.type}, expected ${[...types].join(' or ')}`);
    }
  };

  manifest.features.forEach((feature, i) => {
    if (!feature) return;
    const where = `features[${i}] (${feature.id})`;
    if (seen.has(feature.id)) problems.push(`${where}: duplicate feature id "${feature.id}"`);
    seen.add(feature.id);
    const t = feature.transform;
    switch (t.kind) {
      case 'numeric':
        needColumn(where, t.column, numericTypes);
        break;
      case 'ratio':
        needColumn(where, t.numerator, numericTypes);
        needColumn(where, t.denominator, numericTypes);
        break;
      case 'one_hot': {
        needColumn(where, t.column, new Set(['string']));
        const allowed = contract.get(t.column)?.allowed;
        if (allowed && !allowed.includes(t.category)) {
          problems.push(`${where}: category "${t.category}" is not in the allowed values of "${t.column}" (${allowed.join(', ')})`);
        }
        break;
      }
      case 'is_null':
        needColumn(where, t.column);
        break;
    }
    if (feature.clip && feature.clip[0] > feature.clip[1]) problems.push(`${where}: clip min ${feature.clip[0]} is above max ${feature.clip[1]}`);
    if (feature.group && seen.has(feature.group) && !manifest.features.some((f) => f !== undefined && f.id === feature.group && f.group === feature.group)) {
      problems.push(`${where}: group "${feature.group}" has the same name as a feature id; rename one`);
    }
  });

  const idColumn = manifest.inputContract?.idColumn;
  const id = idColumn === undefined ? undefined : contract.get(idColumn);
  if (idColumn !== undefined && !id) problems.push(`inputContract.idColumn: "${idColumn}" is not declared in inputContract.columns`);
  else if (id?.nullable) problems.push(`inputContract.idColumn: "${id.name}" must not be nullable`);

  const names = new Set<string>();
  for (const [i, column] of (manifest.inputContract?.columns ?? []).entries()) {
    if (names.has(column.name)) problems.push(`inputContract.columns[${i}]: duplicate column "${column.name}"`);
    names.add(column.name);
    if (column.min !== undefined && column.max !== undefined && column.min > column.max) {
      problems.push(`inputContract.columns[${i}] (${column.name}): min ${column.min} is above max ${column.max}`);
    }
  }

  if (manifest.eligibility) needColumn('eligibility', manifest.eligibility.column);

  (manifest.segments ?? []).forEach((segment, i) => {
    needColumn(`segments[${i}]`, segment);
    if (RESERVED_COLUMNS.has(segment) || segment.startsWith('contrib_') || /^reason_\d/.test(segment)) {
      problems.push(`segments[${i}]: "${segment}" is a column the score table already has; copy another column, or rename it upstream`);
    }
    if (manifest.segments!.indexOf(segment) !== i) problems.push(`segments[${i}]: "${segment}" is listed twice`);
  });

  const bands = manifest.riskBands ?? [];
  if (bands[0] && bands[0].minScore !== 0) problems.push('riskBands[0]: the first band must start at minScore 0 so every score has a band');
  for (let i = 1; i < bands.length; i++) {
    const prev = bands[i - 1];
    const cur = bands[i];
    if (prev && cur && cur.minScore <= prev.minScore) problems.push(`riskBands[${i}] (${cur.name}): minScore must be above the previous band's ${prev.minScore}`);
  }
  if (new Set(bands.map((b) => b.name)).size !== bands.length) problems.push('riskBands: band names must be unique');

  const drift = manifest.drift;
  if (drift && drift.psiWarn > drift.psiAlert) problems.push(`drift: psiWarn ${drift.psiWarn} is above psiAlert ${drift.psiAlert}`);
  if (drift && drift.nullRateWarn > drift.nullRateAlert) problems.push(`drift: nullRateWarn ${drift.nullRateWarn} is above nullRateAlert ${drift.nullRateAlert}`);
  if (drift && drift.quarantineRateWarn > drift.quarantineRateAlert) {
    problems.push(`drift: quarantineRateWarn ${drift.quarantineRateWarn} is above quarantineRateAlert ${drift.quarantineRateAlert}`);
  }

  const baseline = manifest.explain?.baseline;
  if (typeof baseline === 'object') {
    const rows = baseline.values ? [{ where: 'explain.baseline.values', row: baseline.values }] : (baseline.background ?? []).map((row, i) => ({ where: `explain.baseline.background[${i}]`, row }));
    for (const { where, row } of rows) {
      for (const key of Object.keys(row)) if (!seen.has(key)) problems.push(`${where}.${key}: no model feature has this id`);
      const absent = manifest.features.filter((f) => f !== undefined && !(f.id in row)).map((f) => f!.id);
      if (absent.length > 0) problems.push(`${where}: no value for ${absent.join(', ')}; give every feature a value (null for a missing one)`);
    }
  }

  for (const key of Object.keys(manifest.reference?.features ?? {})) {
    if (!seen.has(key)) problems.push(`reference.features.${key}: no model feature has this id`);
  }
  return problems;
}

/** Parses one section on its own; undefined when it is absent or invalid (its schema issues are reported already). */
function section<T extends z.ZodType>(schema: T, value: unknown): z.output<T> | undefined {
  if (value === undefined) return undefined;
  const result = schema.safeParse(value);
  return result.success ? result.data : undefined;
}

/**
 * The cross-field rules over the sections of an invalid manifest that do parse, so that one run
 * reports schema and cross-field problems together.
 */
function partialProblems(json: unknown): string[] {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return [];
  const raw = json as Record<string, unknown>;
  const features = Array.isArray(raw['features']) ? raw['features'].map((f: unknown) => section(featureSchema, f)) : [];
  return crossFieldProblems({
    features,
    inputContract: section(inputContractSchema, raw['inputContract']),
    eligibility: section(eligibilitySchema, raw['eligibility']),
    segments: section(z.array(z.string()), raw['segments']),
    riskBands: section(z.array(riskBandSchema), raw['riskBands']),
    // Reference ids are checked against feature ids only when every feature parsed.
    reference: features.includes(undefined) ? undefined : section(referenceProfileSchema, raw['reference']),
    drift: section(driftSettingsSchema, raw['drift']),
    explain: features.includes(undefined) ? undefined : section(explainSettingsSchema, raw['explain']),
  });
}

/**
 * Validates a parsed bundle.json and fills in defaults. Every problem is reported at once, each
 * with its path, so a hand-written spec can be fixed in one pass.
 */
export function parseBundleManifest(json: unknown, source = 'bundle.json'): BundleManifest {
  const result = bundleManifestSchema.safeParse(json);
  const problems = result.success
    ? semanticProblems(result.data)
    : [...result.error.issues.map((issue: z.core.$ZodIssue) => `${formatPath(issue.path)}: ${issue.message}`), ...partialProblems(json)];
  if (!result.success || problems.length > 0) {
    throw new ChurnError(
      'INVALID_BUNDLE',
      `${source} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}\nSee docs/bundle-format.md for the format.`,
      { details: { source, problems } },
    );
  }
  return result.data;
}
