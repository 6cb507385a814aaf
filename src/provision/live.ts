// Changes applied to running processes without a restart. The same values are also in the
// desired state, so a process (re)started later gets them from its generated config.
import {evictionPolicy} from './config';
import {adminCommands} from './resp';
import type {SupervisedRedis} from './supervised';

export async function applyLimits(procs: SupervisedRedis[], secret: string, maxmemoryBytes: number, eviction: boolean): Promise<void> {
  await Promise.all(
    procs.map((p) =>
      adminCommands(p.port, secret, [
        ['CONFIG', 'SET', 'maxmemory', maxmemoryBytes, 'maxmemory-policy', evictionPolicy(eviction)],
      ]),
    ),
  );
}
