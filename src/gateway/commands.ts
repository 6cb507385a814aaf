// Command classification from Redis's own COMMAND table (src/redis/command-table.ts). What is
// refused comes from the one refusal policy (src/redis/refusals.ts); the lists here are the
// commands the gateway answers itself and the ones that need the client's own connection.

import {arityOk, CommandEntry} from '../redis/command-table';
import {cacheRefusal, managedRefusal} from '../redis/refusals';

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
  /** Refusal text for a managed database / the regional cache (src/redis/refusals.ts), or null. */
  refused: string | null;
  cacheRefused: string | null;
  denyoom: boolean;
  /** May change data: a later read on the same connection must see it. */
  writes: boolean;
  subcommands: Map<string, CommandInfo> | null;
  /** SCAN family: index of the cursor argument (SCAN 1, HSCAN/SSCAN/ZSCAN 2), else 0. */
  cursorArg: number;
  /** Flagged `blocking` (BLPOP, XREAD...). */
  blocking: boolean;
  /** The gateway looks at this one before routing it (CONFIG GET/SET, INFO, ROLE, ACL WHOAMI),
   *  so the hot path tests one boolean instead of names. */
  hook: boolean;
}

const HOOKED = new Set(['config|set', 'config|get', 'info', 'role', 'acl|whoami', 'acl|setuser', 'acl|deluser',
  'acl|getuser', 'acl|list', 'acl|users', 'acl|log', 'client|id', 'client|info']);

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

function build(entry: CommandEntry, parent: string | null): CommandInfo {
  const {name, flags} = entry;
  const top = parent ?? name;
  const display = name.replace('|', ' ').toUpperCase();
  let route: Route = Route.Primary;
  if (PINNED.has(top) || flags.has('blocking')) route = Route.Pinned;
  else if (flags.has('readonly') && !flags.has('may_replicate') && !flags.has('write')) route = Route.Read;
  const info: CommandInfo = {
    name,
    display,
    arity: entry.arity,
    flags,
    route,
    special: parent === null ? SPECIAL[name] ?? Special.None : Special.None,
    refused: managedRefusal(entry),
    cacheRefused: cacheRefusal(entry),
    denyoom: flags.has('denyoom'),
    writes: flags.has('write') || flags.has('may_replicate') || PINNED.has(top),
    subcommands: null,
    cursorArg: name === 'scan' ? 1 : name === 'hscan' || name === 'sscan' || name === 'zscan' ? 2 : 0,
    blocking: flags.has('blocking'),
    hook: HOOKED.has(name),
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

  /** Redis's COMMAND table as read (the ACL cap of database users is computed from it). */
  readonly entries: CommandEntry[];

  constructor(entries: Iterable<CommandEntry>) {
    this.entries = [...entries];
    for (const e of this.entries) this.byName.set(e.name, build(e, null));
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
