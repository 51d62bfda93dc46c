import { execFile, execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ip = async (...args: string[]) => (await run('ip', args)).stdout;

/** Why network namespaces cannot be used here (not root, no `ip netns`), or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'it needs root (ip netns add); CI runs as root';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `ip netns is not available: ${(error as Error).message}`;
  }
}

/**
 * A network namespace joined to the host by a veth pair on a private /30: the host end has
 * `hostAddress`, the namespace end `nsAddress`. A process started with `via` lives in it and
 * reaches the host only through that link; `cut()` takes the host end down.
 */
export interface NetworkNamespace {
  name: string;
  hostInterface: string;
  hostAddress: string;
  nsAddress: string;
  /** Prefix for a command run inside the namespace. */
  via: string[];
  cut(): Promise<void>;
  remove(): Promise<void>;
}

/** Two free private /30 subnets (10.a.b.0/30 and 10.a.b.4/30) no host address or route uses. */
async function freeSubnetBase(): Promise<string> {
  const used = `${await ip('-4', '-o', 'addr')}\n${await ip('-4', 'route', 'show', 'table', 'all')}`;
  for (let tries = 0; tries < 50; tries++) {
    const base = `10.${randomInt(64, 192)}.${randomInt(0, 256)}`;
    if (!used.includes(`${base}.`)) return base;
  }
  throw new Error('no free 10.x.y.0/29 subnet found for the test namespaces');
}

/**
 * Creates `count` namespaces with unique names (a random suffix) and their links. When one
 * step fails, what was made so far is removed before the error is thrown.
 */
export async function createNamespaces(tag: string, count: number): Promise<NetworkNamespace[]> {
  const suffix = randomBytes(3).toString('hex');
  const base = await freeSubnetBase();
  const made: NetworkNamespace[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const name = `${tag}-${i}-${suffix}`;
      // Interface names are at most 15 characters.
      const hostInterface = `cn${i}${suffix}h`;
      const nsInterface = `cn${i}${suffix}n`;
      const hostAddress = `${base}.${4 * i + 1}`;
      const nsAddress = `${base}.${4 * i + 2}`;
      const ns: NetworkNamespace = {
        name,
        hostInterface,
        hostAddress,
        nsAddress,
        via: ['ip', 'netns', 'exec', name],
        cut: async () => void (await ip('link', 'set', hostInterface, 'down')),
        remove: async () => {
          // Deleting the namespace deletes its end of the pair, and with it the host end.
          await ip('netns', 'del', name).catch(() => undefined);
          await ip('link', 'del', hostInterface).catch(() => undefined);
        },
      };
      await ip('netns', 'add', name);
      made.push(ns);
      await ip('link', 'add', hostInterface, 'type', 'veth', 'peer', 'name', nsInterface);
      await ip('link', 'set', nsInterface, 'netns', name);
      await ip('addr', 'add', `${hostAddress}/30`, 'dev', hostInterface);
      await ip('link', 'set', hostInterface, 'up');
      await ip('netns', 'exec', name, 'ip', 'addr', 'add', `${nsAddress}/30`, 'dev', nsInterface);
      await ip('netns', 'exec', name, 'ip', 'link', 'set', nsInterface, 'up');
      await ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
    }
    return made;
  } catch (error) {
    await Promise.all(made.map((ns) => ns.remove()));
    throw error;
  }
}
