// CLIENT subcommands that name another client by the id the database's clients see (HELLO's,
// CLIENT ID's): UNBLOCK and TRACKING ... REDIRECT. The gateway maps that id to the backend
// connection that client's commands run on (its pinned connection: blocking commands and
// tracking live there), found in the backend's CLIENT LIST by the gateway's local port; and
// CLIENT NO-EVICT, kept per connection (docs/command-surface.md).
import {asText} from '../redis/client';
import {encodeCommand, MAX_ARGS_KEPT} from './resp';
import {ensurePinned} from './routing';
import type {Session} from './session';
import {W_ASYNC} from './state';
import {Upstream} from './upstream';

const OK = Buffer.from('+OK\r\n');

/** The backend's id for `up` (the internal user's CLIENT LIST, matched by our local port). */
async function backendId(sn: Session, up: Upstream): Promise<number | null> {
  const port = up.sock.localPort;
  if (port === undefined || up.closed) return null;
  const list = asText(await sn.st.ts!.adminReply(up.endpoint, 'CLIENT', 'LIST'));
  const m = new RegExp(`^id=(\\d+) addr=[^ ]*:${port} `, 'm').exec(list);
  return m === null ? null : Number(m[1]);
}

/** The session with this client-visible id among the caller's database's connections. */
function peer(sn: Session, id: number): Session | undefined {
  for (const c of sn.st.ts!.clients) if ('st' in c && (c as Session).id === id) return c as Session;
  return undefined;
}

/** Runs `work` with the connection's reading paused, then writes its reply in order. */
function later(sn: Session, work: () => Promise<Buffer | string | null>): boolean {
  const ts = sn.st.ts;
  sn.blocked |= W_ASYNC;
  work().then(
    (r) => r,
    (e: Error) => `-ERR ${e.message}\r\n`,
  ).then((reply) => {
    sn.blocked &= ~W_ASYNC;
    if (sn.closed) return;
    if (reply !== null && sn.st.ts === ts) sn.write(reply);
    sn.process();
  });
  return true;
}

/** CLIENT UNBLOCK <id> [TIMEOUT|ERROR]: a client of the same database blocked in BLPOP & co. */
export function clientUnblock(sn: Session): boolean {
  if (!sn.quiet() || !sn.admit()) return false;
  const p = sn.parser;
  if (p.frameArgc < 3 || p.frameArgc > 4) {
    sn.fail("ERR wrong number of arguments for 'client|unblock' command");
    return true;
  }
  const idText = p.argString(2);
  if (!/^-?\d+$/.test(idText)) {
    sn.fail('ERR value is not an integer or out of range');
    return true;
  }
  const mode = p.frameArgc === 4 ? p.argString(3).toUpperCase() : 'TIMEOUT';
  if (mode !== 'TIMEOUT' && mode !== 'ERROR') {
    sn.fail('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
    return true;
  }
  const target = peer(sn, Number(idText));
  const up = target?.st.pinnedUp ?? null;
  if (target === undefined || up === null || target.blockingSeq <= target.recv) {
    sn.write(':0\r\n');
    return true;
  }
  return later(sn, async () => {
    const id = await backendId(sn, up);
    if (id === null) return ':0\r\n';
    return `:${Number(await sn.st.ts!.adminReply(up.endpoint, 'CLIENT', 'UNBLOCK', String(id), mode))}\r\n`;
  });
}

/** CLIENT NO-EVICT on|off: kept and shown (flag `e`); the backend connections it would
 *  protect are the gateway's, which Redis's client eviction (maxmemory-clients 0) leaves alone. */
export function clientNoEvict(sn: Session): boolean {
  if (!sn.quiet() || !sn.admit()) return false;
  const p = sn.parser;
  const v = p.frameArgc === 3 ? p.argString(2).toLowerCase() : '';
  if (v !== 'on' && v !== 'off') {
    sn.fail(p.frameArgc === 3 ? 'ERR syntax error' : "ERR wrong number of arguments for 'client|no-evict' command");
    return true;
  }
  sn.st.noEvict = v === 'on';
  sn.write(OK);
  return true;
}

/** CLIENT TRACKING with REDIRECT <id>: forwarded on the pinned connection with the backend id
 *  of the target's pinned connection; null = no REDIRECT, forward as it is. */
export function clientTracking(sn: Session): boolean | null {
  const p = sn.parser;
  if (!sn.quiet()) return false;
  const args: string[] = [];
  for (let i = 0; i < p.frameArgc && i < MAX_ARGS_KEPT; i++) args.push(p.argString(i));
  const at = args.findIndex((a, i) => i >= 3 && a.toLowerCase() === 'redirect');
  const on = (args[2] ?? '').toLowerCase();
  if (on === 'off') sn.st.trackingRedirect = null;
  if (at < 0 || at + 1 >= args.length || p.frameArgc > MAX_ARGS_KEPT) return null;
  const wanted = Number(args[at + 1]);
  const target = Number.isInteger(wanted) ? peer(sn, wanted) : undefined;
  const tup = target?.st.pinnedUp ?? null;
  if (target === undefined || tup === null || tup.closed) {
    // Only a client that holds its own backend connection (subscribed to __redis__:invalidate,
    // or in RESP3 tracking) can receive invalidations.
    sn.fail('ERR The client ID you want redirect to does not exist');
    return true;
  }
  if (!sn.admit()) return false;
  const up = ensurePinned(sn);
  sn.st.sticky = true;
  return later(sn, async () => {
    const id = await backendId(sn, tup);
    if (id === null || up.closed) return '-ERR The client ID you want redirect to does not exist\r\n';
    args[at + 1] = String(id);
    if (on === 'on') sn.st.trackingRedirect = wanted;
    // Sent like any forwarded command (nothing is owed before it): the reply comes in order.
    up.send(encodeCommand(args), sn, 1);
    sn.sent++;
    sn.current = up;
    return null;
  });
}

/** CLIENT GETREDIR after a mapped REDIRECT: the client-visible id; null = ask the backend. */
export function clientGetredir(sn: Session): boolean | null {
  if (sn.st.trackingRedirect === null) return null;
  if (!sn.quiet() || !sn.admit()) return false;
  sn.write(`:${sn.st.trackingRedirect}\r\n`);
  return true;
}
