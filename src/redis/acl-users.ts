// A database's own ACL users (ACL SETUSER through the gateway). They are real Redis users on
// every copy of the database, so Redis itself enforces their rules on commands, keys, channels
// and inside scripts. Each one is capped to what the service allows (the tenant user's rules,
// src/redis/tenant-user.ts): the gateway appends the cap after the client's rules on every
// SETUSER. Persisted as Redis's own `ACL LIST` lines in the database record and rendered into
// every copy's redis.conf at each start (src/provision/config.ts). Pure: no I/O.
import {createHash} from 'node:crypto';
import {CommandFacts, tenantDenied} from './refusals';

/** A command with its subcommands, as in Redis's COMMAND table (a CommandEntry fits). */
export interface CommandTree extends CommandFacts {
  subcommands: ReadonlyMap<string, CommandFacts>;
}

/**
 * The rules appended to a database user's own: one `-name` (or `-name|sub`) per command the
 * tenant user is denied, so the user can do at most what tenant traffic can.
 */
export function capRules(table: Iterable<CommandTree>): string[] {
  const out: string[] = [];
  for (const c of table) {
    if (c.subcommands.size === 0) {
      if (tenantDenied(c)) out.push(`-${c.name}`);
      continue;
    }
    const denied = [...c.subcommands.values()].filter((s) => tenantDenied(s));
    if (denied.length === c.subcommands.size) out.push(`-${c.name}`);
    else for (const s of denied) out.push(`-${s.name}`);
  }
  return out;
}

const CONFIG_WORD = /^[!#-&(-~]+$/;

/** Why the rules of `ACL SETUSER <name> <rules>` are not accepted for a database user, or null. */
export function setuserError(name: string, rules: string[], reserved: ReadonlySet<string>): string | null {
  if (name === 'default') {
    return "ERR The 'default' user is the database password's: reset it with `redfly redis reset-password`";
  }
  if (reserved.has(name)) return `ERR User name '${name}' is reserved`;
  // Users are rendered into redis.conf as `user` lines: one word each, nothing a config
  // parser would read as quoting or a new line.
  if (!CONFIG_WORD.test(name)) return 'ERR a user name is printable ASCII without spaces or quotes';
  for (const r of rules) {
    const l = r.toLowerCase();
    if (l === 'nopass') {
      return 'ERR nopass is not available: a user logs in with a password, which tells the gateway its database';
    }
    if (r.startsWith('(') || l === 'clearselectors') {
      return 'ERR selectors are not available for database users';
    }
    if (!CONFIG_WORD.test(r)) return `ERR rule '${r}' is not available: printable ASCII without spaces or quotes only`;
  }
  return null;
}

/** SHA-256 (hex) of a password, as Redis stores it (`#<hash>` rules). */
export const passwordHash = (password: string | Buffer): string => createHash('sha256').update(password).digest('hex');

/** The password hashes a SETUSER adds: `>pw` and `#hash` rules. */
export function addedHashes(rules: string[]): string[] {
  const out: string[] = [];
  for (const r of rules) {
    if (r.startsWith('>')) out.push(passwordHash(r.slice(1)));
    else if (r.startsWith('#')) out.push(r.slice(1).toLowerCase());
  }
  return out;
}

/** One `ACL LIST` line split into the user name and its rules (a selector `(...)` is one rule). */
export function parseAclLine(line: string): {name: string; rules: string[]} | null {
  const words = line.trim().split(/\s+/);
  if (words.length < 2 || words[0] !== 'user') return null;
  const rules: string[] = [];
  let open: string[] | null = null;
  for (const w of words.slice(2)) {
    if (open !== null) {
      open.push(w);
      if (w.endsWith(')')) {
        rules.push(open.join(' '));
        open = null;
      }
    } else if (w.startsWith('(') && !w.endsWith(')')) open = [w];
    else rules.push(w);
  }
  return {name: words[1], rules};
}

/** The password hashes of a persisted user line (for the login index). */
export function lineHashes(line: string): string[] {
  return parseAclLine(line)?.rules.filter((r) => r.startsWith('#')).map((r) => r.slice(1)) ?? [];
}
