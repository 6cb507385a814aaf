// Locating redis-server and checking its version once, before the first process is started.
import {execFile} from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {RedisServerMissingError, RedisServerTooOldError} from './errors';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The absolute path of the binary, looked up on PATH when given a bare name. */
export function resolveBinary(name: string): string | null {
  if (name.includes('/')) return isExecutable(name) ? path.resolve(name) : null;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/** Resolves the binary and checks that it is Redis 7 or later; throws a typed error otherwise. */
export async function checkRedisServer(name: string): Promise<string> {
  const file = resolveBinary(name);
  if (!file) throw new RedisServerMissingError(name);
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(file, ['--version'], {timeout: 5000}, (err, out) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') reject(new RedisServerMissingError(name));
      else if (err) reject(new RedisServerMissingError(`${name} (it did not run: ${err.message})`));
      else resolve(out);
    });
  });
  const match = /v=(\d+)\.(\d+)\.(\d+)/.exec(stdout);
  if (!match) throw new RedisServerMissingError(`${name} (it is not redis-server: ${stdout.trim().slice(0, 80)})`);
  if (Number(match[1]) < 7) throw new RedisServerTooOldError(file, `${match[1]}.${match[2]}.${match[3]}`);
  return file;
}
