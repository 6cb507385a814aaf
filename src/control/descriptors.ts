// File-descriptor headroom. Every client connection costs the server process one descriptor
// (two with a pinned backend connection), and so does every backend connection, log and pipe of
// a redis-server it supervises. When they run out, a crashed redis-server cannot be restarted
// (EMFILE) and the API stops answering. So: raise the soft limit to the hard one at start, and
// size the gateway's client cap so that a reserve is always left.
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';

export interface NoFileLimit {
  soft: number;
  hard: number;
}

/** Descriptors kept out of the clients' reach: supervision, the API, SQLite, backends. */
export const DESCRIPTOR_RESERVE = 512;

/** The process's RLIMIT_NOFILE from /proc/self/limits (Linux); null elsewhere. */
export function noFileLimit(): NoFileLimit | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const m = line?.match(/Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/);
    if (!m) return null;
    const n = (v: string) => (v === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(v));
    return {soft: n(m[1]), hard: n(m[2])};
  } catch {
    return null;
  }
}

/**
 * Raises the soft RLIMIT_NOFILE of this process to its hard limit with util-linux's `prlimit`
 * (Node has no setrlimit; raising a soft limit up to the hard one needs no privilege). Returns the
 * limit in force afterwards; when it cannot be raised (no prlimit, not Linux) the current one.
 */
export function raiseNoFileLimit(log: (msg: string) => void = () => {}): NoFileLimit | null {
  const before = noFileLimit();
  if (before === null || before.soft >= before.hard) return before;
  try {
    execFileSync('prlimit', [`--pid=${process.pid}`, `--nofile=${before.hard}:${before.hard}`], {stdio: 'ignore', timeout: 5000});
  } catch (err) {
    log(`could not raise the open-files limit from ${before.soft}: ${(err as Error).message}`);
  }
  return noFileLimit() ?? before;
}

/** The most client connections the gateway may hold under a descriptor limit: two descriptors
 *  each (client + pinned backend), after the reserve; at least 16. */
export function clientCapFor(limit: NoFileLimit | null, wanted: number): number {
  if (limit === null) return wanted;
  return Math.max(16, Math.min(wanted, Math.floor((limit.soft - DESCRIPTOR_RESERVE) / 2)));
}
