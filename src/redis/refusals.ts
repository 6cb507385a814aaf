// The one refusal policy: which of Redis's commands the service does not run, for managed
// databases and, layered on top, for the regional cache (both of its databases). Decided from a
// command's flags and ACL categories in Redis's own COMMAND table plus a few named lists, so a
// command added to Redis falls into its family without anyone editing a list. Pure: no I/O.

/** What the policy needs to know of a command (a CommandEntry fits). */
export interface CommandFacts {
  name: string; // lower case; "config|set" for a subcommand
  flags: ReadonlySet<string>; // lower case, e.g. "admin", "pubsub"
  categories?: ReadonlySet<string>; // lower case, e.g. "@scripting"
}

/** Server and client management refused on top of the `admin` flag (families refused whole
 *  unless a subcommand is on MANAGED_SURFACE). */
export const MANAGED_REFUSED: ReadonlySet<string> = new Set([
  'acl', 'move', 'swapdb', 'migrate', 'cluster', 'readonly', 'readwrite', 'monitor', 'config',
  'debug', 'module', 'replicaof', 'slaveof',
  'client|pause', 'client|unpause',
]);

/** Allowed although flagged `admin` or in a refused family: the managed command surface, each
 *  scoped to the database by the gateway (docs/command-surface.md). */
export const MANAGED_SURFACE: ReadonlySet<string> = new Set([
  // the database's own users, managed by the gateway on every copy (src/gateway/acl.ts)
  'acl|whoami', 'acl|setuser', 'acl|deluser', 'acl|getuser', 'acl|list', 'acl|users', 'acl|cat',
  'acl|genpass', 'acl|log',
  'config|get', // a documented safe set of parameters
  'config|set', // notify-keyspace-events only
  'config|resetstat',
  'client|list', // the database's own connections, answered by the gateway
  'client|kill',
  'client|unblock', // by the ids the database's clients see
  'client|no-evict',
]);

/** Refused by the regional cache in both databases by name: the list Fly published for its
 *  cache (sort_ro shares SORT's fate). Whole families are refused by FAMILY below. */
export const CACHE_UNSUPPORTED: ReadonlySet<string> = new Set([
  'subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe', 'publish', 'pubsub',
  'multi', 'exec', 'discard',
  'move', 'randomkey', 'sort', 'sort_ro', 'dbsize', 'time', 'client', 'config', 'monitor', 'slowlog',
  'swapdb', 'memory', 'lolwut', 'eval', 'evalsha', 'script', 'flushdb',
  'geoadd', 'geohash', 'geopos', 'geodist', 'georadius', 'georadiusbymember', 'georadius_ro',
  'georadiusbymember_ro', 'geosearch', 'geosearchstore',
]);

/** Families the cache refuses whole, by Redis's ACL categories: every script and function
 *  command (EVAL_RO, FCALL...), every transaction command (WATCH...), every GEO command. Pub/Sub
 *  (SSUBSCRIBE, SPUBLISH...) by the `pubsub` flag. */
/** The cache has no users of its own: ACL user management stays refused there. */
const CACHE_NO_USERS: ReadonlySet<string> = new Set(['acl|setuser', 'acl|deluser', 'acl|getuser', 'acl|list',
  'acl|users', 'acl|log']);

const CACHE_FAMILIES = ['@scripting', '@transaction', '@geo'];

const display = (name: string): string => name.replace('|', ' ').toUpperCase();
const topOf = (name: string): string => {
  const i = name.indexOf('|');
  return i < 0 ? name : name.slice(0, i);
};

/** Why a managed database refuses `cmd` (its text, without the leading '-'), or null. */
export function managedRefusal(cmd: CommandFacts): string | null {
  const name = cmd.name;
  if (MANAGED_SURFACE.has(name)) return null;
  const top = topOf(name);
  // A family refused whole is named as such ('CONFIG'); a single subcommand by both words.
  if (MANAGED_REFUSED.has(top)) return `ERR Command is not available: '${top.toUpperCase()}'`;
  if (MANAGED_REFUSED.has(name) || cmd.flags.has('admin')) return `ERR Command is not available: '${display(name)}'`;
  return null;
}

/** The cache's own refusals (its list and families), without the managed layer below them:
 *  database 1 words the managed layer's refusals its own way (src/cache/policy.ts). */
export function cacheOwnRefusal(cmd: CommandFacts): string | null {
  const top = topOf(cmd.name);
  const own =
    CACHE_UNSUPPORTED.has(top) ||
    CACHE_NO_USERS.has(cmd.name) ||
    cmd.flags.has('pubsub') ||
    (cmd.categories !== undefined && CACHE_FAMILIES.some((c) => cmd.categories!.has(c)));
  return own ? `ERR Command is not available on the regional cache: '${top.toUpperCase()}'` : null;
}

/** Why the regional cache refuses `cmd`: its own list and families, then the managed policy. */
export function cacheRefusal(cmd: CommandFacts): string | null {
  return cacheOwnRefusal(cmd) ?? managedRefusal(cmd);
}

// Commands Redis puts in the @admin ACL category although they are not flagged `admin`: the
// service runs them (Redis 7.0.15 COMMAND table; test/integration/gateway/refusals.test.ts
// checks this against the installed redis-server).
const ADMIN_CATEGORY_ALLOWED = ['lastsave', 'role'];
// Surface commands that reach Redis (the gateway answers CLIENT LIST/KILL itself).
// (ACL user management is done by the gateway as the internal user, never by tenant traffic.)
const FORWARDED_SURFACE = ['acl|whoami', 'acl|cat', 'acl|genpass', 'config|get', 'config|set', 'config|resetstat'];

/**
 * ACL rules (after `user <name> on <password>`) for the backend user tenant traffic runs as:
 * everything but what managedRefusal refuses, so that a script or function cannot run it either.
 * Denials come before the allowances of single subcommands, as Redis applies rules in order.
 */
export function tenantAclRules(): string {
  const deny = [...MANAGED_REFUSED].map((n) => `-${n}`);
  const allow = [...ADMIN_CATEGORY_ALLOWED, ...FORWARDED_SURFACE].map((n) => `+${n}`);
  return ['~*', '&*', '+@all', '-@admin', ...deny, ...allow].join(' ');
}

/**
 * Whether the tenant user (tenantAclRules) is denied `cmd`, decided command by command: the
 * same set as the rules, so that a database's own users can be capped to it (acl-users.ts).
 * `categories` must be given (a CommandEntry from Redis's COMMAND table has them).
 */
export function tenantDenied(cmd: CommandFacts): boolean {
  const name = cmd.name;
  if (FORWARDED_SURFACE.includes(name) || ADMIN_CATEGORY_ALLOWED.includes(name)) return false;
  if (MANAGED_REFUSED.has(topOf(name)) || MANAGED_REFUSED.has(name)) return true;
  return cmd.categories?.has('@admin') ?? cmd.flags.has('admin');
}
