// Changes applied to running processes without a restart. The same values are also in the
// desired state, so a process (re)started later gets them from its generated config.
import {asText, type RedisConnection, withConnection} from '../redis/client';
import {evictionPolicy, INTERNAL_USER, outputBufferLimit} from './config';
import type {SupervisedRedis} from './supervised';

/** One command as the internal user on a fresh connection (the caller holds none). */
export function internalCall(port: number, secret: string, ...args: (string | number)[]): Promise<unknown> {
  return withConnection(port, {auth: {user: INTERNAL_USER, password: secret}, callTimeoutMs: 5000}, (c) => c.call(...args));
}

/** The plan's limits as Redis config parameters -> values (what CONFIG SET takes and CONFIG GET
 *  answers; client-output-buffer-limit for the normal class only). */
function limitValues(maxmemoryBytes: number, eviction: boolean): [string, string][] {
  return [
    ['maxmemory', String(maxmemoryBytes)],
    ['maxmemory-policy', evictionPolicy(eviction)],
    // "client-output-buffer-limit normal <hard> <soft> <seconds>": the class goes in the value
    ['client-output-buffer-limit', outputBufferLimit(maxmemoryBytes).replace('client-output-buffer-limit ', '')],
  ];
}

export async function applyLimits(procs: SupervisedRedis[], secret: string, maxmemoryBytes: number, eviction: boolean): Promise<void> {
  await Promise.all(
    procs.map((p) => internalCall(p.port, secret, 'CONFIG', 'SET', ...limitValues(maxmemoryBytes, eviction).flat())),
  );
}

/**
 * The limits on a connection the caller holds (as the internal user), set only when the process
 * does not have them already (CONFIG GET first): a process adopted after a restart of the server
 * mostly has them, and a CONFIG SET of the output buffer limits is not free. Resolves true when
 * something was set.
 */
export async function ensureLimits(client: RedisConnection, maxmemoryBytes: number, eviction: boolean): Promise<boolean> {
  const want = limitValues(maxmemoryBytes, eviction);
  const reply = (await client.call('CONFIG', 'GET', ...want.map(([k]) => k))) as unknown[];
  const have = new Map<string, string>();
  for (let i = 0; i + 1 < reply.length; i += 2) have.set(asText(reply[i] as Buffer), asText(reply[i + 1] as Buffer));
  // CONFIG GET client-output-buffer-limit answers every class: "normal 0 0 0 replica ... pubsub ..."
  const normal = /normal \d+ \d+ \d+/.exec(have.get('client-output-buffer-limit') ?? '')?.[0];
  have.set('client-output-buffer-limit', normal ?? '');
  if (want.every(([k, v]) => have.get(k) === v)) return false;
  await client.call('CONFIG', 'SET', ...want.flat());
  return true;
}
