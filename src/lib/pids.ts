// Process-id helpers shared by the CLI (which must not load server code) and the server side
// (provisioner, regional cache). Node built-ins only, so the CLI's start path stays light.
// A recorded pid can outlive its process and be given to another program, hence every check
// of "is this still ours" before a signal.
import * as fs from 'node:fs';

/** How often SIGTERM is repeated while waiting: Redis may ignore one that arrives while it
 *  writes its first AOF, so a single SIGTERM can end in a needless SIGKILL. */
export const SIGTERM_REPEAT_MS = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hasProc = (): boolean => fs.existsSync('/proc/self');

/** The process exists and is not a zombie (exited, not yet reaped: gone for our purposes). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists, it is only someone else's
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return !hasProc(); // no /proc (macOS): trust kill(0); with /proc, unreadable means gone
  }
}

/** The command line of `pid`, or null when it cannot be read (gone, or no way to ask). */
export function commandOf(pid: number): string | null {
  if (hasProc()) {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      return null;
    }
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const {execFileSync} = require('node:child_process') as typeof import('node:child_process');
    return execFileSync('ps', ['-o', 'command=', '-p', String(pid)], {encoding: 'utf8'});
  } catch {
    return null;
  }
}

/** A live redis-server (whatever its folder). */
export function isRedisServer(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  return commandOf(pid)?.includes('redis-server') ?? false;
}

/** A live redis-server whose working folder is `dir`. Without /proc the command name has to do. */
export function isRedisServerIn(pid: number, dir: string): boolean {
  if (!isRedisServer(pid)) return false;
  if (!hasProc()) return true;
  try {
    return fs.realpathSync(`/proc/${pid}/cwd`) === fs.realpathSync(dir);
  } catch {
    return false;
  }
}

/** The pid in a pidfile, or null when it is missing or not a plausible pid. */
export function readPidfile(file: string): number | null {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

/** Resolves true once `pid` is gone, false after `ms`. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (pidAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

export interface TerminateOptions {
  /** How long SIGTERM gets before SIGKILL (default 5 s). */
  timeoutMs?: number;
  repeatMs?: number;
}

/** SIGTERM (repeated), then SIGKILL if still alive after the timeout. The caller has checked
 *  that the pid is the process it means. */
export async function terminate(pid: number, options: TerminateOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const repeatMs = options.repeatMs ?? SIGTERM_REPEAT_MS;
  try {
    process.kill(pid, 'SIGTERM');
    // A stopped (SIGSTOP) process only acts on SIGTERM once continued.
    process.kill(pid, 'SIGCONT');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  let lastTerm = Date.now();
  while (pidAlive(pid) && Date.now() < deadline) {
    await sleep(10);
    if (Date.now() - lastTerm >= repeatMs) {
      lastTerm = Date.now();
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
    }
  }
  if (pidAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    await waitGone(pid, 5_000);
  }
}
