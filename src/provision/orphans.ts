// Finding and stopping redis-server processes left behind by an earlier run of the same home
// (the server was killed, the machine's Node process crashed): they are found through the
// pidfiles under <home>/data, and a pid is only signalled after checking that it still is a
// redis-server working in that very folder, since pids get reused.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {isRedisServerIn, readPidfile, terminate} from '../lib/pids';
import {pidfilePath} from './config';
import {SIGTERM_REPEAT_MS} from './supervised';

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
    const pid = readPidfile(pidfile);
    if (pid !== null && !exclude.has(pid) && isRedisServerIn(pid, dir)) victims.push(pid);
    else if (pid !== null && !exclude.has(pid)) fs.rmSync(pidfile, {force: true});
  }
  // SIGTERM repeated as in SupervisedRedis.stop(): Redis may decline the first one.
  await Promise.all(victims.map((pid) => terminate(pid, {timeoutMs: 5_000, repeatMs: SIGTERM_REPEAT_MS})));
  return victims;
}
