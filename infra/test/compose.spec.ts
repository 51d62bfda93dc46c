/**
 * The compose stack (infra/compose.yaml) cannot run here (no Docker engine), so its structure is
 * checked instead: the services of distributed mode are there and wired to each other, the
 * image builds from the Dockerfile's targets, and every `churn` command it runs, or that its
 * header and infra/README.md tell you to run, is a real subcommand with real flags.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { INFRA_ROOT } from './kustomize-render';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
  profiles?: string[];
}

const REPO_ROOT = path.resolve(INFRA_ROOT, '..');
const composeText = readFileSync(path.join(INFRA_ROOT, 'compose.yaml'), 'utf8');
// Compose resolves YAML merge keys (`<<: *churn`), so the test does too.
const compose = parse(composeText, { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const churnServices = Object.entries(services).filter(([, s]) => s.image === 'churn-scoring:local');

const helpCache = new Map<string, string>();
/** `churn <subcommand> --help` (or `churn --help`) from the built binary. */
function help(subcommand: string): string {
  if (!helpCache.has(subcommand)) {
    const args = subcommand === '--help' ? ['--help'] : [subcommand, '--help'];
    helpCache.set(subcommand, execFileSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'churn.js'), ...args], { encoding: 'utf8' }));
  }
  return helpCache.get(subcommand)!;
}

/** The problems of one `churn` argv: unknown subcommand or flags its --help does not list. */
function commandProblems(argv: string[]): string[] {
  const [subcommand, ...rest] = argv;
  // `churn --help` lists each subcommand at the start of a line (`  worker [options]  ...`).
  if (subcommand !== '--help' && !new RegExp(`^\\s+${subcommand}\\b`, 'm').test(help('--help'))) return [`churn ${subcommand}: not a churn subcommand`];
  const text = help(subcommand!);
  return rest.filter((a) => a.startsWith('--') && !new RegExp(`\\s${a}[\\s,]`).test(text)).map((a) => `churn ${subcommand}: no option ${a}`);
}

/** `docker compose ... run --rm churn <argv>` lines in a text, as argv arrays. */
function documentedRuns(text: string): string[][] {
  return [...text.matchAll(/docker compose -f infra\/compose\.yaml run --rm churn ([^\n`]+)/g)].map((m) => m[1]!.trim().split(/\s+/));
}

describe('infra/compose.yaml', () => {
  it('has Redis, MinIO with a bucket-creating job, PostgreSQL, a producer and two workers', () => {
    expect(Object.keys(services).sort()).toEqual(['churn', 'minio', 'minio-init', 'postgres', 'producer', 'redis', 'worker-1', 'worker-2']);
    expect(churnServices.map(([name, s]) => [name, s.command?.[0]])).toEqual([
      ['producer', 'producer'],
      ['worker-1', 'worker'],
      ['worker-2', 'worker'],
      ['churn', '--help'],
    ]);
    expect(services['churn']!.profiles).toEqual(['tools']);
  });

  it('builds the churn services from the Dockerfile, in a variant it has', () => {
    const dockerfile = readFileSync(path.join(INFRA_ROOT, 'docker', 'Dockerfile'), 'utf8');
    for (const [, s] of churnServices) {
      const context = path.resolve(INFRA_ROOT, s.build!.context);
      expect(context).toBe(REPO_ROOT);
      expect(existsSync(path.join(context, s.build!.dockerfile))).toBe(true);
      expect(dockerfile).toMatch(new RegExp(`^FROM \\S+ AS base-${s.build!.args!['VARIANT']}$`, 'm'));
    }
  });

  it('wires the churn services to the Redis, MinIO and PostgreSQL services, after they are up', () => {
    const minio = services['minio']!.environment!;
    for (const [name, s] of churnServices) {
      const env = s.environment!;
      expect([name, new URL(env['REDIS_URL']!).hostname]).toEqual([name, 'redis']);
      expect([name, new URL(env['AWS_ENDPOINT_URL']!).hostname]).toEqual([name, 'minio']);
      expect([name, new URL(env['CHURN_WAREHOUSE_URL']!).hostname]).toEqual([name, 'postgres']);
      expect([env['AWS_ACCESS_KEY_ID'], env['AWS_SECRET_ACCESS_KEY']]).toEqual([minio['MINIO_ROOT_USER'], minio['MINIO_ROOT_PASSWORD']]);
      expect(s.depends_on).toEqual({
        redis: { condition: 'service_healthy' },
        'minio-init': { condition: 'service_completed_successfully' },
        postgres: { condition: 'service_healthy' },
      });
    }
    expect(services['producer']!.environment!['CHURN_METRICS_PORT']).toBe('9465');
    expect(services['minio-init']!.command!.join(' ')).toContain('mc mb --ignore-existing local/warehouse');
  });

  it('gives workers a stop grace period above their drain deadline', () => {
    for (const [name, s] of churnServices.filter(([, s]) => s.command?.[0] === 'worker')) {
      const drainMs = Number(s.environment!['CHURN_DRAIN_TIMEOUT_MS']);
      const grace = /^(\d+)s$/.exec(s.stop_grace_period ?? '')?.[1];
      expect([name, Number(grace) * 1000 > drainMs]).toEqual([name, true]);
    }
  });

  it('runs, and documents, only real churn subcommands and flags', () => {
    const readme = readFileSync(path.join(INFRA_ROOT, 'README.md'), 'utf8');
    const runs = [...churnServices.map(([, s]) => s.command!), ...documentedRuns(composeText), ...documentedRuns(readme)];
    expect(runs.length).toBeGreaterThan(8);
    expect(runs.flatMap(commandProblems)).toEqual([]);
    // Buckets used by the documented commands exist: the init job makes `warehouse`.
    const buckets = new Set(runs.flat().filter((a) => a.startsWith('s3://')).map((a) => new URL(a).hostname));
    expect([...buckets]).toEqual(['warehouse']);
  });

  it('catches a command that is not real', () => {
    expect(commandProblems(['wroker', '--concurrency', '2'])).toEqual(['churn wroker: not a churn subcommand']);
    expect(commandProblems(['worker', '--concurency', '2'])).toEqual(['churn worker: no option --concurency']);
  });
});
