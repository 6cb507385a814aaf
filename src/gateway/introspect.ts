// What a tenant sees of connections and of the server: its own client connections as Redis
// would list them (the ids HELLO returned, the client's own address), and INFO / ROLE without
// anything of the platform (state folder, backend ports, pids, the gateway's own connections).
// Formats: Redis 7.0.15 src/networking.c catClientInfoString, src/server.c genRedisInfoString.
import type {Session} from './session';

/** The client's own view of connection `sn`, with the id HELLO returned. */
export function clientView(sn: Session): ClientView {
  const st = sn.st;
  return {
    id: sn.id,
    addr: sn.addr,
    laddr: sn.laddr,
    name: st.name,
    user: st.user,
    createdAt: sn.createdAt,
    lastCommandAt: sn.lastCommandAt,
    lastCommand: sn.lastTop?.name ?? 'NULL',
    db: st.db,
    proto: st.proto,
    flags: `${st.inMulti ? 'x' : ''}${st.subscribed ? 'P' : ''}${st.noEvict ? 'e' : ''}` || 'N',
  };
}

/** A client connection as CLIENT INFO / LIST / KILL see it. */
export interface ClientView {
  readonly id: number;
  readonly addr: string; // "ip:port" of the client
  readonly laddr: string; // "ip:port" of the gateway listener it reached
  readonly name: string | null;
  readonly user: string;
  readonly createdAt: number; // ms
  readonly lastCommandAt: number; // ms
  readonly lastCommand: string; // "get", "client|list"
  readonly db: number;
  readonly proto: 2 | 3;
  readonly flags: string; // "N" (none), else "x" (MULTI), "P" (Pub/Sub), "e" (NO-EVICT)
}

/** One CLIENT LIST line (without the newline). Fields the gateway does not track are 0. */
export function clientLine(c: ClientView, now: number): string {
  const age = Math.floor((now - c.createdAt) / 1000);
  const idle = Math.floor((now - c.lastCommandAt) / 1000);
  return `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=0 name=${c.name ?? ''} age=${age} idle=${idle} ` +
    `flags=${c.flags} db=${c.db} sub=0 psub=0 ssub=0 multi=${c.flags.includes('x') ? 0 : -1} qbuf=0 qbuf-free=0 ` +
    `argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=${c.lastCommand} ` +
    `user=${c.user} redir=-1 resp=${c.proto}`;
}

/** A text reply as Redis sends CLIENT INFO / LIST / INFO: bulk in RESP2, verbatim in RESP3. */
export function verbatim(text: string, proto: 2 | 3): Buffer {
  if (proto === 2) return Buffer.from(`$${Buffer.byteLength(text)}\r\n${text}\r\n`);
  return Buffer.from(`=${Buffer.byteLength(text) + 4}\r\ntxt:${text}\r\n`);
}

/** CLIENT KILL filters (Redis 7.0: ID, ADDR, LADDR, USER, SKIPME, TYPE) or the old `ip:port`
 *  form. Returns a predicate, or an error text. */
export function killFilter(args: string[], selfId: number): {match: (c: ClientView) => boolean; old: boolean} | string {
  if (args.length === 1) {
    const addr = args[0];
    return {match: (c: ClientView) => c.addr === addr, old: true};
  }
  if (args.length % 2 !== 0) return 'ERR syntax error';
  const tests: ((c: ClientView) => boolean)[] = [];
  let skipme = true;
  for (let i = 0; i < args.length; i += 2) {
    const opt = args[i].toLowerCase();
    const v = args[i + 1];
    if (opt === 'id') {
      if (!/^[1-9][0-9]*$/.test(v)) return 'ERR client-id should be greater than 0';
      tests.push((c) => c.id === Number(v));
    } else if (opt === 'addr') tests.push((c) => c.addr === v);
    else if (opt === 'laddr') tests.push((c) => c.laddr === v);
    else if (opt === 'user') tests.push((c) => c.user === v);
    else if (opt === 'type') {
      const t = v.toLowerCase();
      if (!['normal', 'pubsub', 'master', 'replica', 'slave'].includes(t)) return `ERR Unknown client type '${v}'`;
      tests.push((c) => (t === 'pubsub' ? c.flags.includes('P') : t === 'normal' ? !c.flags.includes('P') : false));
    } else if (opt === 'skipme') {
      const y = v.toLowerCase();
      if (y !== 'yes' && y !== 'no') return 'ERR syntax error';
      skipme = y === 'yes';
    } else return 'ERR syntax error';
  }
  return {match: (c: ClientView) => (!skipme || c.id !== selfId) && tests.every((t) => t(c)), old: false};
}

// INFO fields that describe the platform rather than the database.
const HIDDEN_INFO = /^(executable|config_file|tcp_port|process_id|process_supervised|server_time_usec|run_id|master_host|master_port|slave\d+|master_replid2?|connected_slaves):/;

/** INFO text without the platform's details (lines kept in Redis's order). */
export function filterInfo(text: string): string {
  return text
    .split('\r\n')
    .filter((l) => !HIDDEN_INFO.test(l))
    .join('\r\n');
}

/**
 * Rewrites a complete bulk (`$`) or verbatim (`=`) reply with `fn` applied to its text; any
 * other reply (an error) is returned as it is.
 */
export function rewriteText(reply: Buffer, fn: (text: string) => string): Buffer {
  const type = reply[0];
  if (type !== 36 && type !== 61) return reply;
  const nl = reply.indexOf(10);
  const len = Number(reply.toString('latin1', 1, nl - 1));
  const body = reply.toString('utf8', nl + 1, nl + 1 + len);
  if (type === 36) {
    const out = fn(body);
    return Buffer.from(`$${Buffer.byteLength(out)}\r\n${out}\r\n`);
  }
  const out = body.slice(0, 4) + fn(body.slice(4));
  return Buffer.from(`=${Buffer.byteLength(out)}\r\n${out}\r\n`);
}

/** ROLE as a primary with no replicas listed: `master`, its offset, and an empty list (the
 *  replicas are the platform's, their addresses are not the tenant's to see). */
export function rewriteRole(reply: Buffer): Buffer {
  const s = reply.toString('latin1');
  const m = /^\*3\r\n\$6\r\nmaster\r\n(:\d+\r\n)/.exec(s);
  if (m === null) return reply;
  return Buffer.from(`*3\r\n$6\r\nmaster\r\n${m[1]}*0\r\n`);
}
