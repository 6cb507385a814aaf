// What the REST API refuses on top of the gateway (which refuses the same commands over either
// protocol). From the hosted service's compatibility table (upstash docs,
// redis/features/restapi.mdx, "REST - Redis API Compatibility"): blocking commands (BLPOP,
// BZPOPMIN, XREAD ... BLOCK, ...) are not supported, nor WATCH/UNWATCH/DISCARD (a transaction is
// /multi-exec), nor Pub/Sub except PUBLISH and PUBSUB, nor connection commands except PING and
// ECHO: one HTTP request is not a connection that could hold their state. SUBSCRIBE and
// PSUBSCRIBE run only as /subscribe/... and /psubscribe/..., answered with Server-Sent Events. The read-only token
// runs read commands only, less the expensive KEYS and SCAN, and is refused with Redis's own
// NOPERM text (what an ACL user with only read permissions gets).
import type {CommandInfo, Tenant} from '../gateway';

const STATEFUL = new Set([
  'multi', 'exec', 'discard', 'watch', 'unwatch',
  'subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe',
  'auth', 'hello', 'select', 'quit', 'reset', 'client', 'monitor',
]);
const READ_ONLY_REFUSED = new Set(['keys', 'scan']);
const CONNECTION_READS = new Set(['ping', 'echo']);

const SSE = new Set(['subscribe', 'psubscribe']);

/** The refusal text for a command sent over REST, or null to run it. `sse`: the command opens a
 *  Server-Sent Events stream (/subscribe, /psubscribe), the one place SUBSCRIBE may run. */
export function restRefusal(info: CommandInfo | null, args: Buffer[], readOnly: boolean, sse = false): string | null {
  if (info === null) return null; // Redis answers "unknown command" itself
  const top = info.name.split('|')[0];
  const stream = top === 'xread' || top === 'xreadgroup';
  if (sse !== SSE.has(top)) {
    return sse ? `ERR only SUBSCRIBE and PSUBSCRIBE stream events, not '${top.toUpperCase()}'`
      : `ERR Command is not supported over the REST API: '${top.toUpperCase()}'`;
  }
  if ((STATEFUL.has(top) && !sse) || (stream ? blockingStreamRead(args) : info.flags.has('blocking'))) {
    return `ERR Command is not supported over the REST API: '${top.toUpperCase()}'`;
  }
  if (readOnly) {
    const reads = (info.flags.has('readonly') && !info.flags.has('write')) || CONNECTION_READS.has(top);
    if (!reads || READ_ONLY_REFUSED.has(top)) {
      return `NOPERM this user has no permissions to run the '${info.name}' command`;
    }
  }
  return null;
}

// XREAD and XREADGROUP are flagged blocking in the table, but block only with their BLOCK option.
function blockingStreamRead(args: Buffer[]): boolean {
  for (let i = 1; i < args.length; i++) {
    const a = args[i].toString('latin1').toLowerCase();
    if (a === 'streams') return false;
    if (a === 'block') return true;
  }
  return false;
}

/** The check execute() runs for each command of a REST request. */
export function restCheck(readOnly: boolean, sse = false): (info: CommandInfo | null, args: Buffer[], tenant: Tenant) => string | null {
  return (info, args) => restRefusal(info, args, readOnly, sse);
}
