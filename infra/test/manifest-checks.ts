import { ScaledObject, type IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';

/** The worker's drain deadline when CHURN_DRAIN_TIMEOUT_MS is not set (apps/worker). */
export const DEFAULT_DRAIN_MS = 30_000;
/** What a pod needs after the drain deadline: closing threads, connections, the HTTP server. */
export const GRACE_MARGIN_MS = 10_000;
/** Env names that hold secrets: only ever from a Secret, never a literal or a ConfigMap key. */
const SECRET_NAME = /^(REDIS_URL|CHURN_WAREHOUSE_URL|DATABASE_URL|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN)$|PASSWORD|SECRET|TOKEN|CREDENTIAL/i;
/** A URL with a password in it: `scheme://user:password@host`. */
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i;

type Validator = (object: unknown) => { validate(): void } | undefined;

/**
 * The kinds the manifests may hold, each with its schema (kubernetes-models for Kubernetes,
 * @kubernetes-models/keda for KEDA). An object of any other kind fails validation: add its
 * model here when a manifest needs it.
 */
const SCHEMAS: Validator[] = [
  (o) => (Namespace.is(o) ? new Namespace(o) : undefined),
  (o) => (ConfigMap.is(o) ? new ConfigMap(o) : undefined),
  (o) => (Secret.is(o) ? new Secret(o) : undefined),
  (o) => (Service.is(o) ? new Service(o) : undefined),
  (o) => (Deployment.is(o) ? new Deployment(o) : undefined),
  (o) => (PodDisruptionBudget.is(o) ? new PodDisruptionBudget(o) : undefined),
  (o) => (ScaledObject.is(o) ? new ScaledObject(o) : undefined),
];

function identify(object: unknown): string {
  const o = (object ?? {}) as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
  return `${String(o.apiVersion)}/${String(o.kind)} ${String(o.metadata?.name)}`;
}

/** Schema problems of each object ("apps/v1/Deployment churn-worker: data/spec/... must be integer"). */
export function schemaProblems(objects: unknown[]): string[] {
  const problems: string[] = [];
  for (const object of objects) {
    const model = SCHEMAS.map((toModel) => toModel(object)).find((m) => m !== undefined);
    if (!model) {
      problems.push(`${identify(object)}: no schema for this kind`);
      continue;
    }
    try {
      model.validate();
    } catch (error) {
      problems.push(`${identify(object)}: ${(error as Error).message}`);
    }
  }
  return problems;
}

/** The value after `flag` in a container's args (`--metrics-port 9464`). */
function flag(container: IContainer, name: string): string | undefined {
  const args = container.args ?? [];
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function containersOf(d: IDeployment): IContainer[] {
  return [...(d.spec?.template.spec?.initContainers ?? []), ...(d.spec?.template.spec?.containers ?? [])];
}

/** The container's port for `port` (a name or a number), if the container declares it. */
function declaredPort(container: IContainer, port: string | number | undefined): number | undefined {
  return container.ports?.find((p) => p.containerPort === port || (p.name !== undefined && p.name === port))?.containerPort;
}

/** What the drain deadline is for this container: its env, its ConfigMaps', else the default. */
function drainMs(container: IContainer, configMaps: ConfigMap[]): number {
  const literal = container.env?.find((e) => e.name === 'CHURN_DRAIN_TIMEOUT_MS');
  if (literal?.value !== undefined) return Number(literal.value);
  const ref = literal?.valueFrom?.configMapKeyRef;
  const fromRefs = ref
    ? configMaps.find((c) => c.metadata?.name === ref.name)?.data?.[ref.key]
    : (container.envFrom ?? []).map((e) => configMaps.find((c) => c.metadata?.name === e.configMapRef?.name)?.data?.['CHURN_DRAIN_TIMEOUT_MS']).find((v) => v !== undefined);
  return fromRefs === undefined ? DEFAULT_DRAIN_MS : Number(fromRefs);
}

function checkWorkload(d: IDeployment, configMaps: ConfigMap[], problems: string[]): void {
  const name = `Deployment ${d.metadata?.name}`;
  const pod = d.spec?.template;
  const grace = pod?.spec?.terminationGracePeriodSeconds;
  for (const c of containersOf(d)) {
    const where = `${name} container ${c.name}`;
    // Images: a registry path and a pinned tag or digest, never :latest or none.
    const image = c.image ?? '';
    const tag = /^[^@]+:([^/:@]+)$/.exec(image)?.[1];
    if (!/@sha256:[0-9a-f]{64}$/.test(image) && (tag === undefined || tag === 'latest')) problems.push(`${where}: image "${image}" is not pinned to a tag or digest`);
    if (!image.includes('/')) problems.push(`${where}: image "${image}" names no registry (the overlay's images: entry did not apply)`);
    // Probes on the metrics port the process serves.
    const metricsPort = flag(c, '--metrics-port');
    for (const [probe, path] of [['readinessProbe', '/healthz'], ['livenessProbe', '/livez']] as const) {
      const get = c[probe]?.httpGet;
      if (!get) {
        problems.push(`${where}: no ${probe}`);
        continue;
      }
      if (get.path !== path) problems.push(`${where}: ${probe} checks ${get.path}, expected ${path}`);
      const port = declaredPort(c, get.port);
      if (port === undefined || String(port) !== metricsPort) problems.push(`${where}: ${probe} port ${get.port} is not the --metrics-port (${metricsPort})`);
    }
    const annotations = pod?.metadata?.annotations ?? {};
    if (annotations['prometheus.io/scrape'] !== 'true' || annotations['prometheus.io/port'] !== metricsPort) {
      problems.push(`${where}: pod is not annotated for Prometheus to scrape port ${metricsPort}`);
    }
    // Termination grace longer than the drain deadline.
    const drain = drainMs(c, configMaps);
    if (grace === undefined || grace * 1000 < drain + GRACE_MARGIN_MS) {
      problems.push(`${where}: terminationGracePeriodSeconds ${grace} is not above the drain deadline ${drain} ms + ${GRACE_MARGIN_MS} ms`);
    }
    // Secrets only by reference.
    for (const e of c.env ?? []) {
      if (SECRET_NAME.test(e.name) && e.valueFrom?.secretKeyRef === undefined) problems.push(`${where}: env ${e.name} must come from a Secret (secretKeyRef)`);
    }
    const redisFromSecret = (c.env ?? []).some((e) => e.name === 'REDIS_URL' && e.valueFrom?.secretKeyRef) || (c.envFrom ?? []).some((e) => e.secretRef);
    if (!redisFromSecret) problems.push(`${where}: REDIS_URL is not taken from a Secret`);
  }
}

function checkGpu(objects: unknown[], workers: IDeployment[], gpu: boolean, problems: string[]): void {
  if (!gpu) {
    if (JSON.stringify(objects).includes('nvidia.com/gpu')) problems.push('cpu overlay: mentions nvidia.com/gpu (GPU requests, tolerations or selectors belong to the gpu overlay)');
    for (const w of workers) for (const c of containersOf(w)) if (flag(c, '--device') !== 'cpu') problems.push(`cpu overlay: worker ${c.name} runs --device ${flag(c, '--device')}, expected cpu`);
    return;
  }
  for (const w of workers) {
    const spec = w.spec?.template.spec;
    for (const c of containersOf(w)) {
      if (String(c.resources?.limits?.['nvidia.com/gpu']) !== '1') problems.push(`gpu overlay: worker ${c.name} does not limit nvidia.com/gpu to 1`);
      if (flag(c, '--device') !== 'cuda') problems.push(`gpu overlay: worker ${c.name} runs --device ${flag(c, '--device')}, expected cuda`);
      if (!/cuda/.test(c.image ?? '')) problems.push(`gpu overlay: worker ${c.name} image ${c.image} is not the CUDA variant`);
    }
    if (!spec?.tolerations?.some((t) => t.key === 'nvidia.com/gpu')) problems.push('gpu overlay: worker pods do not tolerate the nvidia.com/gpu taint');
    if (Object.keys(spec?.nodeSelector ?? {}).length === 0) problems.push('gpu overlay: worker pods have no node selector for GPU nodes');
  }
}

function checkAutoscaling(scaled: IScaledObject[], workers: IDeployment[], configMaps: ConfigMap[], problems: string[]): void {
  const target = workers.find((w) => scaled.some((s) => s.spec.scaleTargetRef.name === w.metadata?.name));
  const so = scaled[0];
  if (!so || !target) {
    problems.push('no ScaledObject scales the worker Deployment');
    return;
  }
  if (target.spec?.replicas !== undefined) problems.push(`Deployment ${target.metadata?.name}: sets replicas, which every apply would reset under KEDA`);
  if (so.spec.minReplicaCount !== 0) problems.push(`ScaledObject ${so.metadata?.name}: minReplicaCount ${so.spec.minReplicaCount}, expected 0 (workers scale to zero)`);
  const trigger = so.spec.triggers.find((t) => t.type === 'prometheus');
  const prefix = configMaps.map((c) => c.data?.['CHURN_QUEUE_PREFIX']).find((p) => p !== undefined) ?? 'churn';
  if (!trigger?.metadata['query']?.includes(`churn_shard_backlog_jobs{prefix="${prefix}"}`)) problems.push(`ScaledObject ${so.metadata?.name}: no prometheus trigger on churn_shard_backlog_jobs{prefix="${prefix}"}`);
  if (trigger?.metadata['ignoreNullValues'] !== 'false') problems.push(`ScaledObject ${so.metadata?.name}: a missing backlog series must be an error (ignoreNullValues: "false"), not zero`);
  const concurrency = containersOf(target).map((c) => flag(c, '--concurrency')).find((v) => v !== undefined);
  if (trigger && trigger.metadata['threshold'] !== concurrency) problems.push(`ScaledObject ${so.metadata?.name}: threshold ${trigger.metadata['threshold']} is not the workers' --concurrency ${concurrency}`);
}

/**
 * The deployment invariants of one rendered overlay: probes, grace periods above the drain
 * deadline, secrets only by reference, pinned images, GPU requests only in the gpu overlay, a
 * PodDisruptionBudget and KEDA autoscaling of the workers. Returns the problems found.
 */
export function invariantProblems(objects: unknown[], options: { gpu: boolean }): string[] {
  const problems: string[] = [];
  const deployments = objects.filter(Deployment.is);
  const configMaps = objects.filter(ConfigMap.is).map((c) => new ConfigMap(c));
  const workers = deployments.filter((d) => containersOf(d).some((c) => c.args?.[0] === 'worker'));
  const producers = deployments.filter((d) => containersOf(d).some((c) => c.args?.[0] === 'producer'));
  if (workers.length !== 1) problems.push(`expected one worker Deployment, found ${workers.length}`);
  if (producers.length !== 1 || producers[0]!.spec?.replicas !== 1) problems.push('expected one producer Deployment with replicas: 1');
  for (const d of deployments) checkWorkload(d, configMaps, problems);
  for (const s of objects.filter(Secret.is)) {
    if (s.data !== undefined || s.stringData !== undefined) problems.push(`Secret ${s.metadata?.name}: holds values; create it out of band (kubectl create secret)`);
  }
  for (const c of configMaps) {
    for (const [key, value] of Object.entries(c.data ?? {})) {
      if (SECRET_NAME.test(key) || URL_WITH_PASSWORD.test(value)) problems.push(`ConfigMap ${c.metadata?.name}: ${key} looks like a secret; put it in the Secret`);
    }
  }
  if (URL_WITH_PASSWORD.test(JSON.stringify(objects))) problems.push('a URL with a password appears in the manifests');
  checkGpu(objects, workers, options.gpu, problems);
  const workerLabels = workers[0]?.spec?.template.metadata?.labels ?? {};
  const pdbs = objects.filter(PodDisruptionBudget.is);
  const covered = pdbs.some((p) => Object.entries(p.spec?.selector?.matchLabels ?? { '': '' }).every(([k, v]) => workerLabels[k] === v));
  if (!covered) problems.push('no PodDisruptionBudget selects the worker pods');
  checkAutoscaling(objects.filter(ScaledObject.is), workers, configMaps, problems);
  return problems;
}
