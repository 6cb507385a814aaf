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

export async function applyPassword(procs: SupervisedRedis[], secret: string, password: string): Promise<void> {
  // resetpass drops every old password; killing the user's connections makes the change
  // effective at once even for clients that authenticated with the old one.
  await Promise.all(
    procs.map((p) =>
      adminCommands(p.port, secret, [
        ['ACL', 'SETUSER', 'default', 'resetpass', `>${password}`],
        ['CLIENT', 'KILL', 'USER', 'default'],
      ]),
    ),
  );
}
