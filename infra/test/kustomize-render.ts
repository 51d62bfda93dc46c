import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';

export const INFRA_ROOT = path.resolve(__dirname, '..');
export const OVERLAYS = ['cpu', 'gpu'] as const;
export type Overlay = (typeof OVERLAYS)[number];

/** `kustomize build`, or `kubectl kustomize` (kubectl bundles kustomize; Debian's `kubectl` package). */
function kustomizeCommand(): string[] {
  const candidates = [
    { command: ['kustomize', 'build'], probe: ['kustomize', 'version'] },
    { command: ['kubectl', 'kustomize'], probe: ['kubectl', 'version', '--client'] },
  ];
  for (const { command, probe } of candidates) {
    try {
      execFileSync(probe[0]!, probe.slice(1), { stdio: 'ignore' });
      return command;
    } catch {
      // not installed: try the next one
    }
  }
  throw new Error('rendering the manifests needs kustomize or kubectl (which bundles it) on PATH: apt-get install kubectl');
}

/** The objects an overlay renders to, exactly as `kubectl apply -k` would send them. */
export function renderOverlay(overlay: Overlay): unknown[] {
  const [command, ...args] = kustomizeCommand();
  const dir = path.join(INFRA_ROOT, 'k8s', 'overlays', overlay);
  const text = execFileSync(command!, [...args, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${overlay}: rendered YAML does not parse: ${doc.errors[0]!.message}`);
    return doc.toJS() as unknown;
  });
}
