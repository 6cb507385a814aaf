// Changes applied to running processes without a restart. The same values are also in the
// desired state, so a process (re)started later gets them from its generated config.
import {withConnection} from '../redis/client';
import {evictionPolicy, INTERNAL_USER, outputBufferLimit} from './config';
import type {SupervisedRedis} from './supervised';

/** One command as the internal user on a fresh connection (the caller holds none). */
export function internalCall(port: number, secret: string, ...args: (string | number)[]): Promise<unknown> {
  return withConnection(port, {auth: {user: INTERNAL_USER, password: secret}, callTimeoutMs: 5000}, (c) => c.call(...args));
}

export async function applyLimits(procs: SupervisedRedis[], secret: string, maxmemoryBytes: number, eviction: boolean): Promise<void> {
  await Promise.all(
    procs.map((p) =>
      internalCall(p.port, secret, 'CONFIG', 'SET', 'maxmemory', maxmemoryBytes, 'maxmemory-policy', evictionPolicy(eviction),
        // "client-output-buffer-limit normal <hard> <soft> <seconds>": the class goes in the value
        'client-output-buffer-limit', outputBufferLimit(maxmemoryBytes).replace('client-output-buffer-limit ', '')),
    ),
  );
}
