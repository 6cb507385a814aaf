// ACL for a database's own users, scoped to the database (docs/architecture.md, "Database
// users"). The gateway runs SETUSER / DELUSER as the internal user on the primary and then on
// every replica (Redis does not replicate ACL), appending the service's cap to the client's
// rules; hands the resulting ACL LIST lines to the host to keep with the record (they are in
// every copy's redis.conf at its next start); and answers LIST, USERS, GETUSER and LOG without
// the internal users. A client logged in as such a user talks to Redis as that user
// (index.ts), so Redis enforces the rules itself, with its own NOPERM errors.
import {ReplyError, Reply} from '../redis/client';
import {addedHashes, capRules, parseAclLine, setuserError} from '../redis/acl-users';
import {MAX_ARGS_KEPT} from './resp';
import {bulk} from './reply';
import type {Session} from './session';
import {W_ASYNC} from './state';
import {TenantState} from './tenant';
import {ManagedTenant} from './types';

/** ACL subcommands the gateway answers (WHOAMI, CAT and GENPASS are not here: WHOAMI is
 *  answered in dispatch.ts, CAT and GENPASS go to Redis as the client's user). */
export const GATEWAY_ACL = new Set(['acl|setuser', 'acl|deluser', 'acl|getuser', 'acl|list', 'acl|users', 'acl|log']);

/** Handles one of GATEWAY_ACL; false = come back later. */
export function aclCommand(sn: Session, sub: string): boolean {
  if (!sn.quiet() || !sn.admit()) return false;
  const ts = sn.st.ts!;
  if (sn.st.inMulti) {
    // Not queued: the gateway runs these on every copy, outside any one connection.
    sn.fail(`ERR '${sub.replace('|', ' ').toUpperCase()}' is not available inside MULTI`);
    return true;
  }
  const p = sn.parser;
  const args: string[] = [];
  for (let i = 2; i < p.frameArgc && i < MAX_ARGS_KEPT; i++) args.push(p.argString(i));
  sn.blocked |= W_ASYNC;
  run(sn, ts, sub, args).then(
    (reply) => finish(sn, ts, reply),
    (e: Error) => finish(sn, ts, `-${e instanceof ReplyError ? e.message : `ERR ${e.message}`}\r\n`),
  );
  return true;
}

function finish(sn: Session, ts: TenantState, reply: string | Buffer): void {
  sn.blocked &= ~W_ASYNC;
  if (sn.closed) return;
  if (sn.st.ts === ts) sn.write(reply);
  sn.process();
}

async function run(sn: Session, ts: TenantState, sub: string, args: string[]): Promise<string> {
  const t = ts.tenant as ManagedTenant;
  const reserved = sn.host.reservedUsers;
  const proto = sn.st.proto;
  const hidden = (name: string) => reserved.has(name) || name === 'default';
  switch (sub) {
    case 'acl|users': {
      const names = (await ts.adminReply(t.primary, 'ACL', 'USERS')) as Buffer[];
      const own = names.map(String).filter((n) => !hidden(n));
      return encode(['default', ...own].sort(), proto);
    }
    case 'acl|list': {
      const lines = await ownLines(ts, reserved);
      return encode([DEFAULT_LINE, ...lines].sort(), proto);
    }
    case 'acl|getuser': {
      if (args.length !== 1) throw new ReplyError("ERR wrong number of arguments for 'acl|getuser' command");
      if (reserved.has(args[0])) return proto === 3 ? '_\r\n' : '*-1\r\n';
      if (args[0] === 'default') return encodeMap(DEFAULT_USER, proto);
      const r = await ts.adminReply(t.primary, 'ACL', 'GETUSER', args[0]);
      return r === null ? (proto === 3 ? '_\r\n' : '*-1\r\n') : encodeMap(r as Reply[], proto);
    }
    case 'acl|log': {
      const r = (await ts.adminReply(t.primary, 'ACL', 'LOG', ...args)) as Reply;
      if (!Array.isArray(r)) return encode(r, proto);
      // Entries of the internal users (a script of the tenant user hitting a refusal) stay hidden.
      const entries = (r as Reply[][]).filter((e) => {
        const i = e.findIndex((v) => String(v) === 'username');
        return i < 0 || !reserved.has(String(e[i + 1]));
      });
      return `*${entries.length}\r\n${entries.map((e) => encodeMap(e, proto)).join('')}`;
    }
    case 'acl|setuser': {
      if (args.length < 1) throw new ReplyError("ERR wrong number of arguments for 'acl|setuser' command");
      const [name, ...rules] = args;
      const bad = setuserError(name, rules, reserved);
      if (bad !== null) throw new ReplyError(bad);
      // A user and password must name one database: the gateway finds it by them.
      for (const h of addedHashes(rules)) {
        const other = sn.host.lookupUser(name, h);
        if (other !== undefined && other.id !== t.id) {
          throw new ReplyError('ERR this user name and password are taken: choose another password');
        }
      }
      const cap = capRules(sn.host.table!.entries);
      await ts.adminReply(t.primary, 'ACL', 'SETUSER', name, ...rules, ...cap);
      await propagate(sn, ts, t, reserved);
      return '+OK\r\n';
    }
    case 'acl|deluser': {
      if (args.length < 1) throw new ReplyError("ERR wrong number of arguments for 'acl|deluser' command");
      if (args.includes('default')) throw new ReplyError("ERR The 'default' user cannot be removed");
      const names = args.filter((n) => !reserved.has(n));
      const n = names.length === 0 ? 0 : ((await ts.adminReply(t.primary, 'ACL', 'DELUSER', ...names)) as number);
      await propagate(sn, ts, t, reserved);
      // Redis disconnects the clients of a deleted user; so does the gateway.
      for (const c of [...ts.clients]) {
        if ('st' in c && names.includes((c as Session).st.user)) c.kick('user deleted');
      }
      return `:${n}\r\n`;
    }
  }
  throw new ReplyError(`ERR unknown subcommand '${sub}'`);
}

// The database password's user, as the tenant sees it (its password is the database's).
const DEFAULT_LINE = 'user default on ~* &* +@all';
const DEFAULT_USER: Reply[] = ['flags', [Buffer.from('on')], 'passwords', [], 'commands', Buffer.from('+@all'),
  'keys', Buffer.from('~*'), 'channels', Buffer.from('&*'), 'selectors', []];

/** The database's own users' ACL LIST lines on the primary. */
async function ownLines(ts: TenantState, reserved: ReadonlySet<string>): Promise<string[]> {
  const t = ts.tenant as ManagedTenant;
  const lines = ((await ts.adminReply(t.primary, 'ACL', 'LIST')) as Buffer[]).map(String);
  return lines.filter((l) => {
    const u = parseAclLine(l);
    return u !== null && u.name !== 'default' && !reserved.has(u.name);
  });
}

/** The primary's users onto every replica (the same set, rules and passwords), then to the host. */
async function propagate(sn: Session, ts: TenantState, t: ManagedTenant, reserved: ReadonlySet<string>): Promise<void> {
  const lines = await ownLines(ts, reserved);
  const users = lines.map((l) => parseAclLine(l)!);
  const wanted = new Set(users.map((u) => u.name));
  await Promise.all(Object.entries(t.replicas).filter(([r]) => r !== t.primaryRegion).map(async ([, ep]) => {
    for (const u of users) await ts.adminReply(ep, 'ACL', 'SETUSER', u.name, 'reset', ...u.rules);
    const there = ((await ts.adminReply(ep, 'ACL', 'USERS')) as Buffer[]).map(String);
    const gone = there.filter((n) => !wanted.has(n) && n !== 'default' && !reserved.has(n));
    if (gone.length > 0) await ts.adminReply(ep, 'ACL', 'DELUSER', ...gone);
  }));
  // answered once kept: the new user's AUTH works from the reply on (the directory has it)
  await sn.host.saveClientSettings?.(t.id, {aclUsers: lines});
}

/** A decoded reply back to RESP (RESP2 as read; errors and nil kept). */
function encode(r: Reply, proto: 2 | 3): string {
  if (r === null) return proto === 3 ? '_\r\n' : '$-1\r\n';
  if (r instanceof ReplyError) return `-${r.message}\r\n`;
  if (typeof r === 'number') return `:${r}\r\n`;
  if (Array.isArray(r)) return `*${r.length}\r\n${r.map((x) => encode(x, proto)).join('')}`;
  if (typeof r === 'string') return bulk(r, proto);
  return `$${r.length}\r\n${r.toString('latin1')}\r\n`;
}

/** A flat field/value array (GETUSER, an ACL LOG entry) as Redis sends it: a map in RESP3.
 *  GETUSER's `selectors` is a list of such maps. */
function encodeMap(kv: Reply[], proto: 2 | 3): string {
  let out = proto === 3 ? `%${kv.length / 2}\r\n` : `*${kv.length}\r\n`;
  for (let i = 0; i < kv.length; i += 2) {
    const k = String(kv[i]);
    const v = kv[i + 1];
    out += encode(Buffer.from(k), proto);
    if (k === 'selectors' && Array.isArray(v)) out += `*${v.length}\r\n${v.map((s) => encodeMap(s as Reply[], proto)).join('')}`;
    else if (k === 'flags' && proto === 3 && Array.isArray(v)) out += `~${v.length}\r\n${v.map((x) => encode(x, proto)).join('')}`;
    else out += encode(v, proto);
  }
  return out;
}

