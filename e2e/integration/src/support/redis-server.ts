import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A private redis-server on its own port, for tests that stop or kill Redis. With `dir`, it keeps
 * its data across restarts (append-only file there); without, it keeps nothing. It listens on
 * 127.0.0.1 and on each address of `bind` (private test addresses, so without protected mode).
 * `args` are more redis-server options (e.g. `--requirepass`).
 */
export function startRedis(port: number, dir?: string, bind: string[] = [], args: string[] = []): Promise<ChildProcess> {
  const persistence = dir ? ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const listen = ['--bind', '127.0.0.1', ...bind, ...(bind.length > 0 ? ['--protected-mode', 'no'] : [])];
  const child = spawn('redis-server', ['--port', String(port), ...listen, ...persistence, '--save', '', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
  });
}

export async function stopRedis(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}
