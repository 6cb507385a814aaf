// The state folder of redfly ($REDFLY_HOME, else ~/.redfly), shared by the CLI and the server:
// where each file lives, and whether the pid a file names is still the process it describes.
// Built-ins only (and pids.ts), so the CLI side may import it.
//
//   <home>/redfly.db                          the records (SQLite)
//   <home>/server.json, server.log            the running server: pid, API URL; its log
//   <home>/local-credentials.json             the local server's API URL and token
//   <home>/internal-secret                    the platform's password on every redis-server
//   <home>/host-id                            this host's id among several (server start --role)
//   <home>/gateway.json, usage.json           gateway ports and today's usage, across restarts
//   <home>/gateway-workers.json               the gateway's worker processes (--gateway-workers N)
//   <home>/.private                           the first start made every file here private
//   <home>/data/<database>/<region>/          one database process: redis.conf, .pid, .log, AOF
//   <home>/cache/                             the regional cache's log (SQLite)
//   <home>/cache/backends/<org>/<region>/     one cache backend process: redis.conf, .pid, .log
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {commandOf, isRedisServerIn, pidAlive, readPidfile} from './pids';

export function redflyHome(): string {
  return path.resolve(process.env.REDFLY_HOME || path.join(os.homedir(), '.redfly'));
}

/** The files and folders of one state folder. */
export function statePaths(home: string) {
  return {
    db: path.join(home, 'redfly.db'),
    serverJson: path.join(home, 'server.json'),
    serverLog: path.join(home, 'server.log'),
    localCredentials: path.join(home, 'local-credentials.json'),
    internalSecret: path.join(home, 'internal-secret'),
    hostId: path.join(home, 'host-id'),
    gatewayJson: path.join(home, 'gateway.json'),
    usageJson: path.join(home, 'usage.json'),
    gatewayWorkersJson: path.join(home, 'gateway-workers.json'),
    data: path.join(home, 'data'),
    cache: path.join(home, 'cache'),
    /** Written once every file under the home was made private (lib/private-files.ts). */
    privateMarker: path.join(home, '.private'),
  };
}

/** The folder of one database's process in one region. */
export const databaseDir = (home: string, databaseId: string): string => path.join(statePaths(home).data, databaseId);
export const processDir = (home: string, databaseId: string, region: string): string =>
  path.join(databaseDir(home, databaseId), region);
/** The folder of one cache backend, under the cache's own folder (<home>/cache). */
export const backendDir = (cacheDir: string, org: string, region: string): string => path.join(cacheDir, 'backends', org, region);

/** Inside a process folder. */
export const pidfilePath = (dir: string): string => path.join(dir, 'redis.pid');
export const logfilePath = (dir: string): string => path.join(dir, 'redis.log');
export const configPath = (dir: string): string => path.join(dir, 'redis.conf');

/** The process folders under a root laid out <root>/<owner>/<region> (one owner, or all). */
export function processDirs(root: string, owner?: string): string[] {
  const dirs: string[] = [];
  for (const o of owner ? [owner] : subdirs(root)) {
    for (const region of subdirs(path.join(root, o))) dirs.push(path.join(root, o, region));
  }
  return dirs;
}

/** Every redis-server the state folder's pidfiles name that still runs in its folder: the
 *  databases' processes and the cache's backends. */
export function redisServersUnder(home: string): number[] {
  const dirs = [...processDirs(statePaths(home).data), ...processDirs(path.join(statePaths(home).cache, 'backends'))];
  return dirs.flatMap((dir) => {
    const pid = readPidfile(pidfilePath(dir));
    return pid !== null && isRedisServerIn(pid, dir) ? [pid] : [];
  });
}

/** The pid recorded in server.json is a live redfly server, not a program that was given the pid
 *  of one that crashed (server.json outlives it): only then may it be used or get our SIGTERM. */
export function isServerPid(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  const cmd = commandOf(pid);
  return cmd === null || cmd.includes('main.js');
}

function subdirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, {withFileTypes: true})
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}
