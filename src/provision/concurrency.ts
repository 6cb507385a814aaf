// How many databases a start brings back at once (src/provision/local.ts reconcile()): the two
// bounds and their environment variables, read once by the server's composition root.
import * as os from 'node:os';

/** How many databases whose processes outlived the last run reconcile() adopts at once:
 *  REDFLY_ADOPT_CONCURRENCY (a positive integer; anything else is an error), else 64. Adopting is
 *  I/O (a connection, AUTH, PING, INFO, CONFIG GET to a running process), so it runs far wider
 *  than a start; bounded so that a loaded host answers each within the adoption timeout. */
export function adoptConcurrency(env: NodeJS.ProcessEnv = process.env): number {
  return positiveIntegerEnv(env, 'REDFLY_ADOPT_CONCURRENCY') ?? 64;
}

/** A positive integer environment variable, undefined when unset or empty; throws naming it
 *  otherwise. */
function positiveIntegerEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not ${JSON.stringify(v)}`);
  return n;
}

/** How many databases reconcile() brings back at once: REDFLY_RECONCILE_CONCURRENCY (a positive
 *  integer; anything else is an error), else four per core (a start is mostly waiting: exec, the
 *  AOF load, the first PING), at least 4 and at most 32, so that 1,000 databases are never
 *  1,000 spawns at once. */
export function reconcileConcurrency(env: NodeJS.ProcessEnv = process.env, cores = os.availableParallelism?.() ?? os.cpus().length): number {
  return positiveIntegerEnv(env, 'REDFLY_RECONCILE_CONCURRENCY') ?? Math.min(32, Math.max(4, 4 * cores));
}
