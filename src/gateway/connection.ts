// The commands the gateway answers itself, about the connection: AUTH, HELLO, SELECT, RESET,
// QUIT before AUTH, and CLIENT (names, and ID/INFO/LIST/KILL over the database's own
// connections, see introspect.ts). They act on the connection's state (state.ts).
import {passwordHash} from '../redis/acl-users';
import {clientGetredir, clientNoEvict, clientTracking, clientUnblock} from './client-admin';
import {clientLine, clientView, killFilter, verbatim} from './introspect';
import {encodeCommand, MAX_ARGS_KEPT, parseIntAt} from './resp';
import {bulk, errorReply} from './reply';
import {dropPinned, ensurePinned} from './routing';
import type {Session} from './session';
import {W_ASYNC} from './state';
import {Tenant} from './types';
import {forwardBytes} from './forward';

const OK = Buffer.from('+OK\r\n');
const NOAUTH = errorReply('NOAUTH Authentication required.');
const WRONGPASS = errorReply('WRONGPASS invalid username-password pair or user is disabled.');
const SELECT_BAD = encodeCommand(['SELECT', '-1']);
const PER_CONNECTION_CLIENT = new Set(['client|tracking', 'client|caching',
  'client|getredir', 'client|trackinginfo', 'client|no-touch']);

function validName(n: string): boolean {
  for (let i = 0; i < n.length; i++) {
    const ch = n.charCodeAt(i);
    if (ch < 33 || ch > 126) return false;
  }
  return true;
}

export function handleUnauthenticated(sn: Session): boolean {
  const name = sn.parser.nameKey().toLowerCase();
  if (name === 'auth') return auth(sn);
  if (name === 'hello') return hello(sn);
  if (name === 'quit') {
    sn.endWith(OK);
    return true;
  }
  if (name === 'reset') return reset(sn);
  sn.write(NOAUTH);
  return true;
}

/** An address that keeps failing AUTH waits its turn before its next check (admission.ts):
 *  false = wait, the command is looked at again then. */
function authTurn(sn: Session): boolean {
  const wait = sn.ticket === null ? 0 : sn.host.admission.authDelay(sn.ticket);
  if (wait === 0) return true;
  sn.flushRun();
  sn.blocked |= W_ASYNC;
  setTimeout(() => {
    sn.blocked &= ~W_ASYNC;
    sn.process();
  }, wait).unref();
  return false;
}

interface Login {
  t: Tenant;
  user: string;
  pass: string | null; // a database user's (null for "default")
}

export function credentials(sn: Session, user: Buffer | null, pass: Buffer): Login | undefined {
  const login = lookup(sn, user, pass);
  if (login === undefined && sn.ticket !== null) sn.host.admission.authFailed(sn.ticket, sn.region, user?.toString() ?? null);
  return login;
}

function lookup(sn: Session, user: Buffer | null, pass: Buffer): Login | undefined {
  const name = user === null ? 'default' : user.toString();
  if (name === 'default') {
    const t = sn.host.lookupPassword(pass.toString());
    return t === undefined ? undefined : {t, user: name, pass: null};
  }
  if (sn.host.reservedUsers.has(name)) return undefined;
  const t = sn.host.lookupUser(name, passwordHash(pass));
  return t === undefined ? undefined : {t, user: name, pass: pass.toString()};
}

/** Binds the connection to a tenant as one of its users; false when the connection was
 *  refused and closed. */
export function attach(sn: Session, login: Login): boolean {
  const t = login.t;
  const ts = sn.host.tenantState(t);
  if (sn.st.ts === ts && (sn.st.user !== login.user || sn.st.pass !== login.pass)) {
    // Another user of the same database: its own backend connections from now on.
    dropPinned(sn);
    sn.routeKey = -1;
  }
  sn.st.user = login.user;
  sn.st.pass = login.pass;
  if (sn.st.ts === ts) return true;
  const limit = t.plan?.maxConnections;
  if (limit !== undefined && ts.connectionCount >= limit) {
    sn.endWith(errorReply('ERR max concurrent connections exceeded'));
    return false;
  }
  if (sn.st.ts !== null) {
    sn.st.ts.clients.delete(sn);
    dropPinned(sn);
  }
  sn.st.ts = ts;
  sn.routeKey = -1;
  sn.st.needEpoch = 0;
  sn.st.lastWriteSeq = 0;
  ts.clients.add(sn);
  if (sn.ticket !== null) sn.host.admission.authenticated(sn.ticket);
  sn.parser.authenticated = true;
  sn.parser.maxRequestBytes = ts.maxRequestBytes;
  ts.startMonitor();
  sn.cacheEp = null;
  if (t.kind === 'cache') {
    // The region's cache may be started on first use: wait for it (and the table) before
    // reading further commands.
    sn.blocked |= W_ASYNC;
    Promise.resolve()
      .then(() => t.backend(sn.region))
      .then(async (ep) => {
        if (sn.st.ts !== ts) return;
        sn.cacheEp = ep;
        sn.routeKey = -1;
        await sn.host.loadTable(ep);
      })
      .then(
        () => {
          sn.blocked &= ~W_ASYNC;
          sn.process();
        },
        (e: Error) => {
          sn.endWith(errorReply(`ERR the regional cache is not available here: ${e.message}`));
        },
      );
  } else if (sn.host.table === null) {
    sn.blocked |= W_ASYNC;
    // Every copy has the same table: the region's own copy answers while the primary's host is
    // down (several hosts: reads keep being served there).
    const local = t.replicas[sn.region];
    sn.host.loadTable(t.primary).catch((err) => (local ? sn.host.loadTable(local) : Promise.reject(err))).then(
      () => {
        sn.blocked &= ~W_ASYNC;
        sn.process();
      },
      () => sn.close(),
    );
  }
  return true;
}

export function auth(sn: Session): boolean {
  if (!sn.quiet()) return false;
  const p = sn.parser;
  if (p.frameArgc < 2 || p.frameArgc > 3) {
    sn.fail("ERR wrong number of arguments for 'auth' command");
    return true;
  }
  if (sn.st.inMulti) {
    sn.fail('ERR Command not allowed inside a transaction');
    return true;
  }
  if (!authTurn(sn)) return false;
  const t = p.frameArgc === 2 ? credentials(sn, null, p.arg(1)) : credentials(sn, p.arg(1), p.arg(2));
  if (t === undefined) {
    sn.write(WRONGPASS);
    return true;
  }
  if (attach(sn, t)) sn.write(OK);
  return true;
}

export function hello(sn: Session): boolean {
  if (!sn.quiet()) return false;
  const p = sn.parser;
  if (sn.st.inMulti) {
    sn.fail('ERR Command not allowed inside a transaction');
    return true;
  }
  let proto: number = sn.st.proto;
  if (p.frameArgc >= 2) {
    const v = p.arg(1);
    proto = parseIntAt(v, 0, v.length);
    if (Number.isNaN(proto)) {
      sn.fail('ERR Protocol version is not an integer or out of range');
      return true;
    }
    if (proto !== 2 && proto !== 3) {
      sn.fail('NOPROTO unsupported protocol version');
      return true;
    }
  }
  let user: Buffer | null = null;
  let pass: Buffer | null = null;
  let setname: string | null = null;
  for (let i = 2; i < p.frameArgc; i++) {
    if (i >= MAX_ARGS_KEPT) {
      sn.fail('ERR syntax error');
      return true;
    }
    const opt = p.argString(i).toLowerCase();
    if (opt === 'auth' && i + 2 < p.frameArgc) {
      user = p.arg(i + 1);
      pass = p.arg(i + 2);
      i += 2;
    } else if (opt === 'setname' && i + 1 < p.frameArgc) {
      setname = p.argString(i + 1);
      i += 1;
    } else {
      sn.fail(`ERR Syntax error in HELLO option '${p.argString(i)}'`);
      return true;
    }
  }
  if (pass === null && sn.st.ts === null) {
    sn.write(errorReply('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time'));
    return true;
  }
  if (pass !== null) {
    if (!authTurn(sn)) return false;
    const t = credentials(sn, user, pass);
    if (t === undefined) {
      sn.write(WRONGPASS);
      return true;
    }
    if (!attach(sn, t)) return true;
  }
  if (setname !== null) {
    if (!validName(setname)) {
      sn.fail('ERR Client names cannot contain spaces, newlines or special characters.');
      return true;
    }
    sn.st.name = setname === '' ? null : setname;
  }
  if (proto !== sn.st.proto) {
    sn.st.proto = proto as 2 | 3;
    sn.routeKey = -1;
    if (sn.st.pinnedUp !== null) {
      sn.st.pinnedUp.sendDiscarded(encodeCommand(['HELLO', String(proto)]));
      sn.st.pinnedUp.proto = proto as 2 | 3;
    }
  }
  sn.write(helloReply(sn));
  return true;
}

export function helloReply(sn: Session): string {
  const v = sn.host.serverVersion;
  const pairs = [
    '$6\r\nserver\r\n$5\r\nredis\r\n',
    `$7\r\nversion\r\n${bulk(v, 2)}`,
    `$5\r\nproto\r\n:${sn.st.proto}\r\n`,
    `$2\r\nid\r\n:${sn.id}\r\n`,
    '$4\r\nmode\r\n$10\r\nstandalone\r\n',
    '$4\r\nrole\r\n$6\r\nmaster\r\n',
    '$7\r\nmodules\r\n*0\r\n',
  ];
  return (sn.st.proto === 3 ? '%7\r\n' : '*14\r\n') + pairs.join('');
}

export function select(sn: Session): boolean {
  const p = sn.parser;
  const v = p.arg(1);
  const n = parseIntAt(v, 0, v.length);
  if (sn.st.inMulti) {
    // Queued like Redis does, so EXEC reports an out-of-range index in its own reply.
    return forwardBytes(sn, ensurePinned(sn), n === 0 || Number.isNaN(n) ? p.frameBytes() : SELECT_BAD);
  }
  if (!sn.quiet() || !sn.admit()) return false;
  if (Number.isNaN(n)) {
    sn.fail('ERR value is not an integer or out of range');
  } else if (n === 0 || (n === 1 && sn.st.ts!.tenant.kind === 'cache')) {
    sn.st.db = n;
    sn.write(OK);
  } else {
    sn.fail('ERR DB index is out of range');
  }
  return true;
}

export function reset(sn: Session): boolean {
  if (!sn.quiet()) return false;
  dropPinned(sn);
  sn.st.proto = 2;
  sn.routeKey = -1;
  sn.st.name = null;
  sn.st.db = 0;
  sn.st.user = 'default';
  sn.st.pass = null;
  sn.st.noEvict = false;
  sn.st.trackingRedirect = null;
  // Back to the just-connected state in every respect, logged out included: Redis
  // re-authenticates a RESET connection as "default", which needs a password here.
  if (sn.st.ts !== null) {
    sn.st.ts.clients.delete(sn);
    sn.st.ts = null;
    sn.parser.authenticated = false;
    sn.parser.maxRequestBytes = 0;
    sn.cacheEp = null;
    sn.upPrimary = null;
    sn.upRead = null;
    sn.st.needEpoch = 0;
    sn.st.lastWriteSeq = 0;
  }
  sn.write('+RESET\r\n');
  return true;
}

/** CLIENT subcommands; null = route normally. */
export function clientCommand(sn: Session): boolean | null {
  const p = sn.parser;
  if (p.frameArgc < 2) return null;
  // By the name sent, not the table: SETINFO is newer than Redis 7.0 and still sent by clients.
  const sub = `client|${p.argString(1).toLowerCase()}`;
  if (sub === 'client|setname' || sub === 'client|getname' || sub === 'client|setinfo') {
    // Like AUTH and HELLO, the library's own handshake (SETINFO) is not charged to the user.
    if (!sn.quiet() || (sub !== 'client|setinfo' && !sn.admit())) return false;
    if (sub === 'client|getname') {
      sn.write(bulk(sn.st.name, sn.st.proto));
    } else if (sub === 'client|setname') {
      const n = p.argString(2);
      if (!validName(n)) sn.fail('ERR Client names cannot contain spaces, newlines or special characters.');
      else {
        sn.st.name = n === '' ? null : n;
        sn.write(OK);
      }
    } else {
      sn.write(OK);
    }
    return true;
  }
  if (sub === 'client|reply') {
    // Redis stops replying on that connection; only a connection that is not counted
    // can follow it.
    if (!sn.quiet()) return false;
    ensurePinned(sn).passthrough = true;
    sn.st.passthrough = true;
    return null;
  }
  if (sub === 'client|id' || sub === 'client|info' || sub === 'client|list' || sub === 'client|kill') {
    return clientIntrospect(sn, sub);
  }
  if (sub === 'client|unblock') return clientUnblock(sn);
  if (sub === 'client|no-evict') return clientNoEvict(sn);
  if (sub === 'client|tracking') {
    const mapped = clientTracking(sn);
    if (mapped !== null) return mapped;
  }
  if (sub === 'client|getredir') {
    const local = clientGetredir(sn);
    if (local !== null) return local;
  }
  // TRACKING, CACHING, ...: state of one server connection from now on.
  if (!PER_CONNECTION_CLIENT.has(sub)) return null;
  if (!sn.quiet()) return false;
  ensurePinned(sn);
  sn.st.sticky = true;
  return null;
}

/** CLIENT ID / INFO / LIST / KILL over the tenant's own connections through this gateway. */
export function clientIntrospect(sn: Session, sub: string): boolean {
  if (!sn.quiet() || !sn.admit()) return false;
  const p = sn.parser;
  const now = Date.now();
  const ts = sn.st.ts!;
  const peers = [...ts.clients].filter((c): c is Session => 'st' in c);
  const args: string[] = [];
  for (let i = 2; i < p.frameArgc && i < MAX_ARGS_KEPT; i++) args.push(p.argString(i));
  if (sub === 'client|id') {
    sn.write(`:${sn.id}\r\n`);
  } else if (sub === 'client|info') {
    sn.write(verbatim(`${clientLine(clientView(sn), now)}\n`, sn.st.proto));
  } else if (sub === 'client|list') {
    let list = peers;
    if (args.length >= 2 && args[0].toLowerCase() === 'id') {
      const ids = new Set(args.slice(1).map(Number));
      list = list.filter((c) => ids.has(c.id));
    } else if (args.length === 2 && args[0].toLowerCase() === 'type') {
      const t = args[1].toLowerCase();
      list = list.filter((c) => (t === 'pubsub' ? c.st.subscribed : t === 'normal' ? !c.st.subscribed : false));
    } else if (args.length > 0) {
      sn.fail('ERR syntax error');
      return true;
    }
    sn.write(verbatim(list.map((c) => `${clientLine(clientView(c), now)}\n`).join(''), sn.st.proto));
  } else {
    const f = killFilter(args, sn.id);
    if (typeof f === 'string') {
      sn.fail(f);
      return true;
    }
    const victims = peers.filter((c) => f.match(clientView(c)));
    if (f.old && victims.length === 0) {
      sn.fail('ERR No such client');
      return true;
    }
    sn.write(f.old ? OK : Buffer.from(`:${victims.length}\r\n`));
    for (const v of victims) {
      if (v === sn) sn.endWith(null);
      else v.kick('CLIENT KILL');
    }
  }
  return true;
}
