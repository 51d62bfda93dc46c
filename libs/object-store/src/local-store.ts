import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { ChurnError } from '@churn/errors';
import type { ObjectInfo, ObjectStore } from './object-store';
import { parseUri } from './uri';

function localPath(uri: string): string {
  const parsed = parseUri(uri);
  if (parsed.scheme !== 'file') throw new ChurnError('INVALID_ARGUMENT', `${uri} is not a local location`);
  return parsed.path;
}

/** Objects are written beside their key under this prefix, then moved into place; listings skip them. */
const STAGING_PREFIX = '.tmp-';

/** A fresh staging file next to `file`, on the same file system (so rename and link stay atomic). */
function stagingPathOf(file: string): string {
  return path.join(path.dirname(file), `${STAGING_PREFIX}${path.basename(file)}-${randomBytes(6).toString('hex')}`);
}

/** ENOENT, or ENOTDIR when a parent of the path is a regular file: either way nothing is there. */
function isMissing(cause: unknown): boolean {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function ioError(action: 'list' | 'stat' | 'read' | 'write' | 'delete', uri: string, cause: unknown): ChurnError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  // Only a read of a missing object is INPUT_NOT_FOUND (permanent); a write that hits ENOENT
  // (its folder removed meanwhile) is an I/O failure worth retrying.
  if (action === 'read' && isMissing(cause)) {
    return new ChurnError('INPUT_NOT_FOUND', `${uri} does not exist`, { cause, details: { uri } });
  }
  const hint =
    code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
      ? ' (permission denied: choose a writable location or fix its permissions)'
      : '';
  return new ChurnError('IO_ERROR', `cannot ${action} ${uri}: ${(cause as Error).message}${hint}`, {
    cause,
    details: { uri, errno: code },
  });
}

/** `visited` holds the real paths of walked folders, so symlinked folders cannot loop. */
async function walk(dir: string, out: ObjectInfo[], visited: Set<string>): Promise<void> {
  let entries;
  try {
    const real = await fs.realpath(dir);
    if (visited.has(real)) return;
    visited.add(real);
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (cause) {
    if (isMissing(cause)) return;
    throw ioError('list', pathToFileURL(dir).href, cause);
  }
  for (const entry of entries) {
    if (entry.name.startsWith(STAGING_PREFIX)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      await walk(full, out, visited);
      continue;
    }
    if (!entry.isFile() && !entry.isSymbolicLink()) continue;
    // stat follows symlinks, like head() and get() do; a file removed since readdir is skipped.
    let stat;
    try {
      stat = await fs.stat(full);
    } catch (cause) {
      if (isMissing(cause)) continue;
      throw ioError('list', pathToFileURL(full).href, cause);
    }
    if (stat.isDirectory()) await walk(full, out, visited);
    else if (stat.isFile()) out.push({ uri: pathToFileURL(full).href, size: stat.size, lastModified: stat.mtime });
  }
}

/** `file://` and bare paths. */
export class LocalObjectStore implements ObjectStore {
  async list(prefixUri: string): Promise<ObjectInfo[]> {
    const target = localPath(prefixUri);
    const out: ObjectInfo[] = [];
    const stat = await fs.stat(target).catch(() => undefined);
    if (stat?.isFile()) return [{ uri: pathToFileURL(target).href, size: stat.size, lastModified: stat.mtime }];
    await walk(target, out, new Set());
    return out.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  async head(uri: string): Promise<ObjectInfo | undefined> {
    const file = localPath(uri);
    try {
      const stat = await fs.stat(file);
      if (!stat.isFile()) return undefined;
      return { uri: pathToFileURL(file).href, size: stat.size, lastModified: stat.mtime };
    } catch (cause) {
      if (isMissing(cause)) return undefined;
      throw ioError('stat', uri, cause);
    }
  }

  async getRange(uri: string, start: number, end: number): Promise<Uint8Array> {
    const file = localPath(uri);
    let handle;
    try {
      handle = await fs.open(file, 'r');
      const length = Math.max(0, end - start);
      const buffer = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, start + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === length ? buffer : buffer.subarray(0, filled);
    } catch (cause) {
      throw ioError('read', uri, cause);
    } finally {
      await handle?.close();
    }
  }

  async get(uri: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await fs.readFile(localPath(uri)));
    } catch (cause) {
      throw ioError('read', uri, cause);
    }
  }

  async put(uri: string, body: Uint8Array | string): Promise<void> {
    const file = localPath(uri);
    const tmp = stagingPathOf(file);
    try {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(tmp, body);
      await fs.rename(tmp, file);
    } catch (cause) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw ioError('write', uri, cause);
    }
  }

  async putIfAbsent(uri: string, body: Uint8Array | string): Promise<boolean> {
    const file = localPath(uri);
    // Written in full to a temporary file, then linked into place: link() fails with EEXIST when
    // the target exists, so exactly one writer wins and no reader sees a half-written object.
    const tmp = stagingPathOf(file);
    try {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(tmp, body);
      await fs.link(tmp, file);
      return true;
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw ioError('write', uri, cause);
    } finally {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  async copy(from: string, to: string): Promise<void> {
    const source = localPath(from);
    const target = localPath(to);
    const tmp = stagingPathOf(target);
    try {
      await fs.stat(source);
    } catch (cause) {
      throw ioError('read', from, cause);
    }
    try {
      await fs.mkdir(path.dirname(target), { recursive: true });
      // A hard link costs no bytes; across file systems, a copy.
      await fs.link(source, tmp).catch(() => fs.copyFile(source, tmp));
      await fs.rename(tmp, target);
    } catch (cause) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw ioError('write', to, cause);
    }
  }

  async delete(uri: string): Promise<void> {
    try {
      await fs.rm(localPath(uri), { force: true });
    } catch (cause) {
      if (isMissing(cause)) return;
      throw ioError('delete', uri, cause);
    }
  }
}
