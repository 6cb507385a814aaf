// Finding and stopping redis-server processes left behind by an earlier run of the same home
// (the server was killed, the machine's Node process crashed): they are found through the
// pidfiles under <home>/data, and a pid is only signalled after checking that it still is a
// redis-server working in that very folder, since pids get reused.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {isRedisServerIn, readPidfile, terminate} from '../lib/pids';
import {pidfilePath, processDirs, statePaths} from '../lib/home';
import {SIGTERM_REPEAT_MS} from './supervised';

/** Stops the left-over redis-server processes under `home` (all; one database's; or those of the
 *  databases `which` picks by id) except the `exclude` pids; returns their pids. */
export async function stopOrphans(
  home: string,
  which?: string | ((databaseId: string) => boolean),
  exclude: ReadonlySet<number> = new Set(),
): Promise<number[]> {
  const victims: number[] = [];
  const dirs = processDirs(statePaths(home).data, typeof which === 'string' ? which : undefined);
  for (const dir of dirs) {
    if (typeof which === 'function' && !which(path.basename(path.dirname(dir)))) continue;
    const pidfile = pidfilePath(dir);
    const pid = readPidfile(pidfile);
    if (pid !== null && !exclude.has(pid) && isRedisServerIn(pid, dir)) victims.push(pid);
    else if (pid !== null && !exclude.has(pid)) fs.rmSync(pidfile, {force: true});
  }
  // SIGTERM repeated as in SupervisedRedis.stop(): Redis may decline the first one.
  await Promise.all(victims.map((pid) => terminate(pid, {timeoutMs: 5_000, repeatMs: SIGTERM_REPEAT_MS})));
  return victims;
}
