// Spawning one redis-server: its generated config written to its folder, its own process group
// (a Ctrl-C in the terminal reaches the server, which stops its children in order), stderr to a
// file that stays writable if this Node process dies first, the pidfile written at once. Used
// by the supervisor of database processes (supervised.ts) and by the cache's backends
// (src/cache/backend.ts), persistent or volatile alike (config.ts renders both).
import {ChildProcess, spawn} from 'node:child_process';
import * as fs from 'node:fs';
import {configPath, logfilePath, pidfilePath} from '../lib/home';

export interface SpawnRedisOptions {
  /** The redis-server executable (checked by binary.ts). */
  binary: string;
  /** The process folder: redis.conf, redis.pid, redis.log, redis.stderr, data. */
  dir: string;
  /** The full text of redis.conf (config.ts). */
  config: string;
  /** Let this Node process exit while the server runs on (an adopted cache backend). */
  unref?: boolean;
}

export interface SpawnedRedis {
  child: ChildProcess;
  /** Where this start's stderr goes. */
  stderrFile: string;
  /** Size of redis.log before this start: what follows is this start's. */
  logOffset: number;
}

/** Writes the config and starts the process; it is not yet answering. */
export function spawnRedis(o: SpawnRedisOptions): SpawnedRedis {
  fs.mkdirSync(o.dir, {recursive: true, mode: 0o700});
  fs.writeFileSync(configPath(o.dir), o.config, {mode: 0o600});
  const logOffset = fileSize(logfilePath(o.dir));
  const stderrFile = `${o.dir}/redis.stderr`;
  const stderrFd = fs.openSync(stderrFile, 'w', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(o.binary, [configPath(o.dir)], {cwd: o.dir, detached: true, stdio: ['ignore', 'ignore', stderrFd]});
  } finally {
    fs.closeSync(stderrFd);
  }
  if (o.unref) child.unref();
  if (child.pid) fs.writeFileSync(pidfilePath(o.dir), `${child.pid}\n`, {mode: 0o600});
  return {child, stderrFile, logOffset};
}

/** What redis-server wrote since `logOffset` and on stderr, without log prefixes: the last
 *  lines, for an error message. `portInUse` when it could not bind. */
export function startupOutput(dir: string, spawned: SpawnedRedis): {tail: string; portInUse: boolean} {
  const output = (readFrom(logfilePath(dir), spawned.logOffset) + readFrom(spawned.stderrFile, 0)).trim();
  // "1234:M 24 Nov 2026 03:34:31.367 # Failed listening..." -> "Failed listening..."
  const lines = output.split('\n').map((l) => l.replace(/^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ [#*.-] /, ''));
  return {tail: lines.slice(-2).join(' | '), portInUse: /Address already in use/i.test(output)};
}

function readFrom(file: string, offset: number): string {
  try {
    const buf = fs.readFileSync(file);
    return buf.subarray(Math.min(offset, buf.length)).toString('utf8');
  } catch {
    return '';
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
