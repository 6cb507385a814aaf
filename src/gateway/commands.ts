// Command classification from Redis's own COMMAND table, fetched once from a backend. The only
// hand-kept lists are the management commands the service refuses on top of the `admin` flag,
// the commands the gateway answers itself, and the cache's unsupported commands.

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

type RawEntry = [string, number, string[], ...unknown[]];

function build(raw: RawEntry, parent: string | null): CommandInfo {
  const name = String(raw[0]).toLowerCase();
  const flags = new Set((raw[2] ?? []).map((f) => String(f).toLowerCase()));
  const subsRaw = (raw[9] as RawEntry[] | undefined) ?? [];
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
    arity: Number(raw[1]),
    flags,
    route,
    special: parent === null ? SPECIAL[name] ?? Special.None : Special.None,
    refused,
    denyoom: flags.has('denyoom'),
    writes: flags.has('write') || flags.has('may_replicate') || PINNED.has(top),
    subcommands: null,
  };
  if (subsRaw.length > 0) {
    info.subcommands = new Map();
    for (const s of subsRaw) {
      const sub = build(s, name);
      info.subcommands.set(sub.name.slice(name.length + 1), sub);
    }
  }
  return info;
}

export class CommandTable {
  private readonly byName = new Map<string, CommandInfo>();
  // Raw spellings seen on the wire -> info, so the hot path skips lower-casing.
  private readonly byRaw = new Map<string, CommandInfo | null>();

  constructor(raw: unknown[]) {
    for (const e of raw) {
      const info = build(e as RawEntry, null);
      this.byName.set(info.name, info);
    }
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

/** Redis's check: arity > 0 means exactly, < 0 means at least. */
export function arityOk(arity: number, argc: number): boolean {
  return arity > 0 ? argc === arity : argc >= -arity;
}
