// Finding and stopping redis-server processes left behind by an earlier run of the same home
// (the server was killed, the machine's Node process crashed): they are found through the
// pidfiles under <home>/data, and a pid is only signalled after checking that it still is a
// redis-server working in that very folder, since pids get reused.
import {execFileSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {pidfilePath} from './config';
import {SIGTERM_REPEAT_MS} from './supervised';

const STOP_TIMEOUT_MS = 5_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie (exited, not yet reaped) answers kill(0) but is gone for our purposes.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

/** True when `pid` is a live redis-server whose working folder is `dir`. */
export function isRedisServerIn(pid: number, dir: string): boolean {
  if (!alive(pid)) return false;
  if (fs.existsSync('/proc/self')) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes('redis-server')) return false;
      return fs.realpathSync(`/proc/${pid}/cwd`) === fs.realpathSync(dir);
    } catch {
      return false;
    }
  }
  try {
    const command = execFileSync('ps', ['-o', 'command=', '-p', String(pid)], {encoding: 'utf8'});
    return command.includes('redis-server');
  } catch {
    return false;
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

/** SIGTERM, then SIGKILL if it is still alive after a timeout. */
export async function terminate(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  let lastTerm = Date.now();
  while (alive(pid) && Date.now() < deadline) {
    await sleep(10);
    // Repeated for the same reason as in SupervisedRedis.stop(): Redis may decline the first one.
    if (Date.now() - lastTerm >= SIGTERM_REPEAT_MS) {
      lastTerm = Date.now();
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
    }
  }
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    while (alive(pid)) await sleep(10);
  }
}

/** Process folders (<home>/data/<db>/<region>) of one database, or of all when id is absent. */
export function processDirs(home: string, databaseId?: string): string[] {
  const dataDir = path.join(home, 'data');
  const dbs = databaseId ? [databaseId] : safeList(dataDir);
  const dirs: string[] = [];
  for (const db of dbs) {
    for (const region of safeList(path.join(dataDir, db))) dirs.push(path.join(dataDir, db, region));
  }
  return dirs;
}

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir, {withFileTypes: true}).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}

/** Stops the left-over redis-server processes under `home` (all, or one database's); returns their pids. */
export async function stopOrphans(home: string, databaseId?: string, exclude: ReadonlySet<number> = new Set()): Promise<number[]> {
  const victims: number[] = [];
  for (const dir of processDirs(home, databaseId)) {
    const pidfile = pidfilePath(dir);
    const pid = readPid(pidfile);
    if (pid !== null && !exclude.has(pid) && isRedisServerIn(pid, dir)) victims.push(pid);
    else if (pid !== null && !exclude.has(pid)) fs.rmSync(pidfile, {force: true});
  }
  await Promise.all(victims.map(terminate));
  return victims;
}
