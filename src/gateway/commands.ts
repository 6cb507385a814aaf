// Command classification from Redis's own COMMAND table (src/redis/command-table.ts). The only
// hand-kept lists are the management commands the service refuses on top of the `admin` flag,
// the commands the gateway answers itself, and the cache's unsupported commands.

import {arityOk, CommandEntry} from '../redis/command-table';

export const enum Route {
  Read = 1, // served by the region's copy
  Primary = 2, // forwarded to the primary (shared connection is fine)
  Pinned = 3, // needs the client's own primary connection (blocking, scripts, WAIT)
}

/** Commands the gateway handles itself, before routing. */
export const enum Special {
  None = 0,
  Auth,
  Hello,
  Select,
  Quit,
  Reset,
  Multi,
  Exec,
  Discard,
  Watch,
  Unwatch,
  Subscribe,
  Client,
}

export interface CommandInfo {
  name: string; // lower case, "client|kill" for subcommands
  display: string; // as named in errors: "CONFIG", "CLIENT KILL"
  arity: number;
  flags: ReadonlySet<string>;
  route: Route;
  special: Special;
  refused: boolean;
  denyoom: boolean;
  /** May change data: a later read on the same connection must see it. */
  writes: boolean;
  subcommands: Map<string, CommandInfo> | null;
}

// Server and client management refused on top of the `admin` flag (which already covers
// CONFIG, DEBUG, SHUTDOWN, SAVE, BGSAVE, REPLICAOF, SYNC, MONITOR, MODULE, FAILOVER, ...).
const REFUSED = new Set([
  'acl', // every subcommand but whoami, below
  'move',
  'swapdb',
  'migrate',
  'cluster',
  'readonly',
  'readwrite',
  'client|kill',
  'client|pause',
  'client|unpause',
  'client|no-evict',
  'client|list',
  'client|unblock',
  'monitor',
  'config',
  'debug',
  'module',
  'replicaof',
  'slaveof',
]);
const ALLOWED_DESPITE_FLAGS = new Set(['acl|whoami']);

const SPECIAL: Record<string, Special> = {
  auth: Special.Auth,
  hello: Special.Hello,
  select: Special.Select,
  quit: Special.Quit,
  reset: Special.Reset,
  multi: Special.Multi,
  exec: Special.Exec,
  discard: Special.Discard,
  watch: Special.Watch,
  unwatch: Special.Unwatch,
  subscribe: Special.Subscribe,
  psubscribe: Special.Subscribe,
  ssubscribe: Special.Subscribe,
  unsubscribe: Special.Subscribe,
  punsubscribe: Special.Subscribe,
  sunsubscribe: Special.Subscribe,
  client: Special.Client,
};

// Scripts hold the connection they run on and may write; WAIT counts the calling
// connection's own writes.
const PINNED = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro', 'wait', 'waitaof']);

/** Unsupported on the regional cache (seed: redis-on-fly-regional-cache.txt). */
export const CACHE_REFUSED = new Set([
  'subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe',
  'publish', 'spublish', 'pubsub',
  'multi', 'exec', 'discard', 'watch', 'unwatch',
  'move', 'randomkey', 'sort', 'sort_ro', 'dbsize', 'time', 'client', 'config', 'monitor',
  'slowlog', 'swapdb', 'memory', 'lolwut', 'eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'script',
  'geoadd', 'geodist', 'geohash', 'geopos', 'georadius', 'georadius_ro', 'georadiusbymember',
  'georadiusbymember_ro', 'geosearch', 'geosearchstore', 'flushdb',
]);

function build(entry: CommandEntry, parent: string | null): CommandInfo {
  const {name, flags} = entry;
  const top = parent ?? name;
  // A family refused as a whole is named as such ('CONFIG'); a single subcommand by both words.
  const display = (parent !== null && REFUSED.has(parent) ? parent : name.replace('|', ' ')).toUpperCase();
  let route: Route = Route.Primary;
  if (PINNED.has(top) || flags.has('blocking')) route = Route.Pinned;
  else if (flags.has('readonly') && !flags.has('may_replicate') && !flags.has('write')) route = Route.Read;
  const refused =
    !ALLOWED_DESPITE_FLAGS.has(name) &&
    (flags.has('admin') || REFUSED.has(name) || (REFUSED.has(top) && !ALLOWED_DESPITE_FLAGS.has(name)));
  const info: CommandInfo = {
    name,
    display,
    arity: entry.arity,
    flags,
    route,
    special: parent === null ? SPECIAL[name] ?? Special.None : Special.None,
    refused,
    denyoom: flags.has('denyoom'),
    writes: flags.has('write') || flags.has('may_replicate') || PINNED.has(top),
    subcommands: null,
  };
  if (entry.subcommands.size > 0) {
    info.subcommands = new Map();
    for (const [subName, sub] of entry.subcommands) info.subcommands.set(subName, build(sub, name));
  }
  return info;
}

export class CommandTable {
  private readonly byName = new Map<string, CommandInfo>();
  // Raw spellings seen on the wire -> info, so the hot path skips lower-casing.
  private readonly byRaw = new Map<string, CommandInfo | null>();

  constructor(entries: Iterable<CommandEntry>) {
    for (const e of entries) this.byName.set(e.name, build(e, null));
  }

  get(lower: string): CommandInfo | undefined {
    return this.byName.get(lower);
  }

  /** Lookup by the name exactly as the client sent it; null for an unknown command. */
  lookupRaw(raw: string): CommandInfo | null {
    let info = this.byRaw.get(raw);
    if (info !== undefined) return info;
    info = this.byName.get(raw.toLowerCase()) ?? null;
    if (this.byRaw.size < 10000) this.byRaw.set(raw, info);
    return info;
  }

  get size(): number {
    return this.byName.size;
  }
}

export {arityOk};
