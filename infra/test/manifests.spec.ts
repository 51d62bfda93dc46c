/**
 * The Kubernetes manifests (issue 12): every overlay rendered by kustomize, every object
 * validated against the Kubernetes and KEDA schemas, and the deployment invariants checked. The
 * second half breaks a rendered overlay on purpose, one invariant at a time, and expects the
 * checks to name the break: checks that cannot fail would prove nothing.
 */
import { invariantProblems, schemaProblems } from './manifest-checks';
import { OVERLAYS, renderOverlay, type Overlay } from './kustomize-render';

type Json = Record<string, unknown>;
const rendered = new Map<Overlay, unknown[]>(OVERLAYS.map((o) => [o, renderOverlay(o)]));

/** A deep copy of an overlay's objects, with `edit` applied to the first of `kind` named `name`. */
function broken(overlay: Overlay, kind: string, name: string, edit: (object: Json) => void): unknown[] {
  const objects = structuredClone(rendered.get(overlay)!) as Json[];
  const target = objects.find((o) => o['kind'] === kind && (o['metadata'] as Json)['name'] === name);
  if (!target) throw new Error(`${overlay} renders no ${kind} ${name}`);
  edit(target);
  return objects;
}

/** The worker's pod spec and its first container, in a Deployment object. */
function worker(d: Json): { pod: Json; container: Json } {
  const pod = ((d['spec'] as Json)['template'] as Json)['spec'] as Json;
  return { pod, container: (pod['containers'] as Json[])[0]! };
}

describe.each(OVERLAYS)('overlay %s', (overlay) => {
  const objects = rendered.get(overlay)!;

  it('renders the namespace, config, producer, workers, their budget and autoscaler', () => {
    const kinds = objects.map((o) => `${(o as Json)['kind']}/${((o as Json)['metadata'] as Json)['name']}`).sort();
    expect(kinds).toEqual([
      'ConfigMap/churn-config',
      'Deployment/churn-producer',
      'Deployment/churn-worker',
      'Namespace/churn',
      'PodDisruptionBudget/churn-worker',
      'ScaledObject/churn-worker',
      'Service/churn-producer',
    ]);
  });

  it('validates every object against the Kubernetes and KEDA schemas', () => {
    expect(schemaProblems(objects)).toEqual([]);
  });

  it('holds the deployment invariants', () => {
    expect(invariantProblems(objects, { gpu: overlay === 'gpu' })).toEqual([]);
  });
});

describe('the checks fail on broken manifests', () => {
  it('rejects an object that breaks its schema, and a kind without a schema', () => {
    const objects = broken('cpu', 'Deployment', 'churn-worker', (d) => {
      (worker(d).container['ports'] as Json[])[0]!['containerPort'] = 'metrics';
    });
    expect(schemaProblems(objects)).toEqual([expect.stringMatching(/^apps\/v1\/Deployment churn-worker: .*containerPort must be integer/)]);
    const typo = broken('cpu', 'ScaledObject', 'churn-worker', (s) => {
      ((s['spec'] as Json)['triggers'] as Json[])[0]!['metadata'] = { threshold: 2 };
    });
    expect(schemaProblems(typo)).toEqual([expect.stringMatching(/ScaledObject churn-worker: .*threshold must be string/)]);
    expect(schemaProblems([{ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'x' } }])).toEqual(['batch/v1/CronJob x: no schema for this kind']);
  });

  it('requires both probes on the metrics port', () => {
    const objects = broken('gpu', 'Deployment', 'churn-worker', (d) => {
      delete worker(d).container['livenessProbe'];
      ((worker(d).container['readinessProbe'] as Json)['httpGet'] as Json)['port'] = 8080;
    });
    expect(invariantProblems(objects, { gpu: true })).toEqual([
      'Deployment churn-worker container worker: readinessProbe port 8080 is not the --metrics-port (9464)',
      'Deployment churn-worker container worker: no livenessProbe',
    ]);
  });

  it('requires the grace period to outlast the drain deadline from the ConfigMap', () => {
    const objects = broken('cpu', 'ConfigMap', 'churn-config', (c) => {
      (c['data'] as Json)['CHURN_DRAIN_TIMEOUT_MS'] = '55000';
    });
    expect(invariantProblems(objects, { gpu: false })).toEqual([
      'Deployment churn-worker container worker: terminationGracePeriodSeconds 60 is not above the drain deadline 55000 ms + 10000 ms',
    ]);
  });

  it('refuses secret values in env, ConfigMaps and Secrets', () => {
    let objects = broken('cpu', 'Deployment', 'churn-producer', (d) => {
      const env = worker(d).container['env'] as Json[];
      env.splice(env.findIndex((e) => e['name'] === 'REDIS_URL'), 1, { name: 'REDIS_URL', value: 'redis://redis:6379' });
    });
    expect(invariantProblems(objects, { gpu: false })).toEqual([
      'Deployment churn-producer container producer: env REDIS_URL must come from a Secret (secretKeyRef)',
      'Deployment churn-producer container producer: REDIS_URL is not taken from a Secret',
    ]);
    objects = broken('cpu', 'ConfigMap', 'churn-config', (c) => {
      (c['data'] as Json)['CHURN_WAREHOUSE'] = 'postgres://churn:hunter2@db:5432/churn';
    });
    expect(invariantProblems(objects, { gpu: false })).toEqual([
      'ConfigMap churn-config: CHURN_WAREHOUSE looks like a secret; put it in the Secret',
      'a URL with a password appears in the manifests',
    ]);
    objects = [...rendered.get('cpu')!, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'churn-secrets' }, stringData: { REDIS_URL: 'redis://x' } }];
    expect(invariantProblems(objects, { gpu: false })).toEqual(['Secret churn-secrets: holds values; create it out of band (kubectl create secret)']);
  });

  it('requires pinned images', () => {
    const objects = broken('gpu', 'Deployment', 'churn-producer', (d) => {
      worker(d).container['image'] = 'registry.example.com/churn-scoring:latest';
    });
    expect(invariantProblems(objects, { gpu: true })).toEqual(['Deployment churn-producer container producer: image "registry.example.com/churn-scoring:latest" is not pinned to a tag or digest']);
  });

  it('keeps GPU requests out of the cpu overlay and requires them in the gpu overlay', () => {
    const gpuInCpu = broken('cpu', 'Deployment', 'churn-worker', (d) => {
      ((worker(d).container['resources'] as Json)['limits'] as Json)['nvidia.com/gpu'] = 1;
    });
    expect(invariantProblems(gpuInCpu, { gpu: false })).toEqual([expect.stringMatching(/^cpu overlay: mentions nvidia.com\/gpu/)]);
    const noGpu = broken('gpu', 'Deployment', 'churn-worker', (d) => {
      const { pod, container } = worker(d);
      delete ((container['resources'] as Json)['limits'] as Json)['nvidia.com/gpu'];
      delete pod['tolerations'];
      container['args'] = (container['args'] as string[]).map((a) => (a === 'cuda' ? 'auto' : a));
    });
    expect(invariantProblems(noGpu, { gpu: true })).toEqual([
      'gpu overlay: worker worker does not limit nvidia.com/gpu to 1',
      'gpu overlay: worker worker runs --device auto, expected cuda',
      'gpu overlay: worker pods do not tolerate the nvidia.com/gpu taint',
    ]);
  });

  it('requires the autoscaler to read the backlog, per worker concurrency, from zero', () => {
    const objects = broken('cpu', 'ScaledObject', 'churn-worker', (s) => {
      const spec = s['spec'] as Json;
      spec['minReplicaCount'] = 1;
      const trigger = (spec['triggers'] as Json[])[0]!['metadata'] as Json;
      trigger['threshold'] = '5';
      trigger['ignoreNullValues'] = 'true';
    });
    expect(invariantProblems(objects, { gpu: false })).toEqual([
      'ScaledObject churn-worker: minReplicaCount 1, expected 0 (workers scale to zero)',
      'ScaledObject churn-worker: a missing backlog series must be an error (ignoreNullValues: "false"), not zero',
      "ScaledObject churn-worker: threshold 5 is not the workers' --concurrency 2",
    ]);
    const withoutPdb = rendered.get('cpu')!.filter((o) => (o as Json)['kind'] !== 'PodDisruptionBudget');
    expect(invariantProblems(withoutPdb, { gpu: false })).toEqual(['no PodDisruptionBudget selects the worker pods']);
  });
});
