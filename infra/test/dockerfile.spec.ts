/**
 * The Dockerfile cannot be built here (no Docker engine). What CI builds instead is the runtime
 * tree, with check-runtime-image.sh; this test keeps the two in step: the Dockerfile and the
 * check run the same build-runtime.sh steps in the same order, and the Dockerfile's stages, user
 * and healthcheck are what infra/README.md says.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { INFRA_ROOT } from './kustomize-render';

const dockerfile = readFileSync(path.join(INFRA_ROOT, 'docker', 'Dockerfile'), 'utf8');
const check = readFileSync(path.join(INFRA_ROOT, 'docker', 'check-runtime-image.sh'), 'utf8');
const lines = dockerfile.split('\n').filter((l) => !l.startsWith('#'));

/** `build-runtime.sh <step> [args]` calls, with the ONNXRUNTIME_NODE_INSTALL they run under. */
function steps(text: string): string[] {
  return [...text.matchAll(/(?:ONNXRUNTIME_NODE_INSTALL=(\S+) )?infra\/docker\/build-runtime\.sh (deps|build|runtime)/g)].map((m) => (m[1] ? `${m[2]} (${m[1]})` : m[2]!));
}

/** The stages the Dockerfile builds for one VARIANT, from the final stage back through FROM and COPY --from. */
function stagesFor(variant: string): string[] {
  const stages = new Map<string, { from: string; copies: string[] }>();
  let current: { from: string; copies: string[] } | undefined;
  for (const line of lines) {
    const from = /^FROM (\S+) AS (\S+)$/.exec(line);
    if (from) stages.set(from[2]!, (current = { from: from[1]!.replace('${VARIANT}', variant), copies: [] }));
    const copy = /^COPY --from=(\S+)/.exec(line);
    if (copy && current) current.copies.push(copy[1]!);
  }
  const seen: string[] = [];
  const visit = (name: string) => {
    const stage = stages.get(name);
    if (!stage || seen.includes(name)) return;
    seen.push(name);
    for (const dep of [stage.from, ...stage.copies]) visit(dep);
  };
  visit([...stages.keys()].at(-1)!);
  return seen.sort();
}

describe('infra/docker/Dockerfile', () => {
  it('runs the same build-runtime.sh steps, in the same order, as the CI check', () => {
    expect(steps(lines.join('\n'))).toEqual(['deps', 'build', 'runtime (skip)', 'runtime (cuda12)']);
    expect(steps(check)).toEqual(['deps', 'build', 'runtime (skip)']);
    // Dependencies are installed before the sources are copied (a cached layer per lock file).
    const deps = lines.findIndex((l) => l.includes('build-runtime.sh deps'));
    expect(lines.slice(0, deps).filter((l) => l.startsWith('COPY ')).join('\n')).not.toMatch(/COPY \. /);
    // ...and with dev dependencies: NODE_ENV=production is set only in the final stage.
    const finalStage = lines.findIndex((l) => l.startsWith('FROM base-${VARIANT}'));
    expect(lines.slice(0, finalStage).filter((l) => l.includes('NODE_ENV'))).toEqual([]);
  });

  it('builds only its own base and runtime tree for each variant', () => {
    expect(stagesFor('cpu')).toEqual(['base-cpu', 'build', 'runtime', 'tree', 'tree-cpu']);
    expect(stagesFor('cuda')).toEqual(['base-cuda', 'build', 'runtime', 'tree', 'tree-cuda']);
  });

  it('runs as a non-root user it creates, on a current Node LTS, with a healthcheck', () => {
    expect(lines).toContain('USER 10001:10001');
    expect(dockerfile).toMatch(/useradd --system --uid 10001/);
    const node = /^ARG NODE_IMAGE=node:(\d+)-/m.exec(dockerfile);
    expect(Number(node?.[1]) % 2).toBe(0); // LTS lines are the even majors
    expect(Number(node?.[1])).toBeGreaterThanOrEqual(24);
    expect(lines.some((l) => /^HEALTHCHECK .*CMD \["node", "\/app\/healthcheck\.js"\]$/.test(l))).toBe(true);
  });

  it('starts every command under the scoring commands\' Node flags (bin/node-runtime.js)', () => {
    const { SCORING_NODE_FLAGS } = require(path.join(INFRA_ROOT, '..', 'bin', 'node-runtime.js')) as { SCORING_NODE_FLAGS: string[] };
    const entry = lines.find((l) => l.startsWith('ENTRYPOINT '));
    expect(JSON.parse(entry!.slice('ENTRYPOINT '.length))).toEqual(['node', ...SCORING_NODE_FLAGS, '/app/bin/churn.js']);
  });
});
