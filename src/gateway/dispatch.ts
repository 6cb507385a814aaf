// What a framed command is and who handles it: limits and refusals first, then the dispatch
// table (commands the gateway answers itself or that change the connection's state), else
// routing. Every gateway-written reply waits (sn.quiet()) for the replies owed before it.
import {CONFIG_SETTABLE, NOTIFY_FLAGS, rewriteConfigGet} from './config';
import {aclCommand, GATEWAY_ACL} from './acl';
import {noteQueued, rewriteExec} from './multi';
import {auth, clientCommand, handleUnauthenticated, hello, reset, select} from './connection';
import {virtualCommand} from './db1';
import {filterInfo, rewriteRole, rewriteText} from './introspect';
import {arityOk, CommandInfo, Special} from './commands';
import {encodeCommand, MAX_ARGS_KEPT} from './resp';
import {bulk, errorReply} from './reply';
import {ensurePinned, primaryUp, route} from './routing';
import type {Session} from './session';
import {forwardBytes, forwardPinned, forwardRewritten, waitsForOwedReplies} from './forward';

const OK = Buffer.from('+OK\r\n');
const EXECABORT = errorReply('EXECABORT Transaction discarded because of previous errors.');
const DISCARD_CMD = encodeCommand(['DISCARD']);
const PING_CMD = encodeCommand(['PING']);

export function handle(sn: Session): boolean {
  const p = sn.parser;
  if (p.oversize > 0) {
    if (!sn.quiet()) return false;
    sn.fail(`ERR max request size exceeded. Limit: ${p.maxRequestBytes} bytes, Actual: ${p.oversize} bytes`);
    return true;
  }
  const ts = sn.st.ts;
  if (ts === null) return handleUnauthenticated(sn);
  const table = sn.host.table;
  if (table === null) {
    sn.fail('ERR no backend is reachable for this database');
    return true;
  }
  const top = sn.lookupName(table);
  let info = top;
  if (top !== null && top.subcommands !== null && p.frameArgc >= 2) {
    info = top.subcommands.get(p.argString(1).toLowerCase()) ?? top;
  }
  const special = top === null ? Special.None : top.special;
  const cache = ts.tenant.kind === 'cache';

  if (cache && sn.st.db === 1 && special !== Special.Auth && special !== Special.Hello &&
      special !== Special.Quit && special !== Special.Reset) {
    return virtualCommand(sn);
  }
  if (info !== null && top !== null) {
    const refused = cache ? info.cacheRefused ?? top.cacheRefused : info.refused;
    if (refused !== null) {
      if (!sn.quiet()) return false;
      sn.fail(refused);
      return true;
    }
    if (!arityOk(info.arity, p.frameArgc) && special !== Special.None && special !== Special.Client) {
      if (!sn.quiet()) return false;
      sn.fail(`ERR wrong number of arguments for '${info.name.replace('|', ' ')}' command`);
      return true;
    }
  }
  if (info !== null && info.hook) {
    const hooked = hook(sn, info);
    if (hooked !== null) return hooked;
  }
  const connection = CONNECTION[special];
  if (connection !== undefined) {
    const handled = connection(sn, special);
    if (handled !== null) return handled;
  }
  // Limits: refused commands do not count towards usage.
  if (special === Special.None || special === Special.Multi || special === Special.Exec ||
      special === Special.Watch || special === Special.Subscribe || special === Special.Client) {
    const err = ts.dailyLimitError() ?? (info !== null && info.denyoom && ts.overCapacity ? ts.quotaText() : null);
    if (err !== null) {
      if (!sn.quiet()) return false;
      sn.fail(err);
      return true;
    }
  }
  const stateful = STATEFUL[special];
  if (stateful !== undefined) return stateful(sn, special) as boolean;
  return route(sn, info);
}

/** CONFIG SET/GET, INFO, ROLE and ACL WHOAMI as the tenant sees them; null = go on. */
function hook(sn: Session, info: CommandInfo): boolean | null {
  const p = sn.parser;
  // Queued as usual; their EXEC entries answer as they would outside MULTI (multi.ts).
  if (sn.st.inMulti && !sn.st.passthrough && noteQueued(sn, info.name)) return null;
  if (info.name === 'config|set') {
    for (let i = 2; i < p.frameArgc; i += 2) {
      if (i >= MAX_ARGS_KEPT || !CONFIG_SETTABLE.has(p.argString(i).toLowerCase())) {
        if (!sn.quiet()) return false;
        sn.fail("ERR Command is not available: 'CONFIG'");
        return true;
      }
    }
    // Kept with the record so a restart of the redis-server keeps it (a value Redis would
    // refuse is not kept: it answers the error itself).
    const v = p.frameArgc === 4 ? p.argString(3) : null;
    const ts = sn.st.ts!;
    if (v !== null && NOTIFY_FLAGS.test(v) && ts.tenant.kind === 'managed') {
      void sn.host.saveClientSettings?.(ts.tenant.id, {notifyKeyspaceEvents: v});
    }
  } else if (info.name === 'config|get') {
    const patterns: string[] = [];
    for (let i = 2; i < p.frameArgc && i < MAX_ARGS_KEPT; i++) patterns.push(p.argString(i));
    const up = sn.st.inMulti || sn.st.watching || sn.st.sticky || sn.st.subscribed || sn.st.passthrough ? ensurePinned(sn) : primaryUp(sn);
    return forwardBytes(sn, up, rewriteConfigGet(patterns));
  }
  if ((info.name === 'info' || info.name === 'role') && !sn.st.inMulti && !sn.st.passthrough) {
    return forwardRewritten(sn, info.name === 'info' ? (b) => rewriteText(b, filterInfo) : rewriteRole);
  }
  if (info.name === 'acl|whoami' && !sn.st.inMulti && !sn.st.passthrough) {
    // The user the client logged in as; the backend would name the gateway's own user.
    if (!sn.quiet() || !sn.admit()) return false;
    sn.write(bulk(sn.st.user, sn.st.proto));
    return true;
  }
  if (GATEWAY_ACL.has(info.name) && !sn.st.passthrough) return aclCommand(sn, info.name);
  return null;
}

/** A handler of the dispatch table: true = done, false = wait and come back to this command,
 *  null = not handled here after all (go on as an ordinary command). */
type Handler = (sn: Session, special: Special) => boolean | null;

// Connection commands, answered before the limits (they are not charged as data commands).
const CONNECTION: (Handler | undefined)[] = [];
CONNECTION[Special.Auth] = auth;
CONNECTION[Special.Hello] = hello;
CONNECTION[Special.Quit] = (sn) => {
  if (!sn.quiet()) return false;
  sn.endWith(OK);
  return true;
};
CONNECTION[Special.Reset] = reset;
CONNECTION[Special.Select] = select;
CONNECTION[Special.Client] = (sn) => (sn.st.inMulti || sn.st.passthrough ? null : clientCommand(sn));

// Commands that change the connection's state, after the limits.
const STATEFUL: (Handler | undefined)[] = [];
// A nested MULTI is an error Redis answers without ending (or dooming) the transaction.
STATEFUL[Special.Multi] = (sn) => {
  const nested = sn.st.inMulti;
  return forwardPinned(sn, () => {
    if (nested) {
      sn.st.queued--; // answered with an error, not queued
      return;
    }
    sn.st.inMulti = true;
    sn.st.multiFailed = false;
    sn.st.queued = 0;
    sn.st.execRewrites = null;
  });
};
STATEFUL[Special.Exec] = endTransaction;
STATEFUL[Special.Discard] = endTransaction;
STATEFUL[Special.Watch] = (sn) =>
  forwardPinned(sn, () => {
    if (!sn.st.inMulti) sn.st.watching = true;
    else sn.st.queued--; // WATCH inside MULTI: an error, not queued
  });
STATEFUL[Special.Unwatch] = (sn) => {
  if (sn.st.pinnedUp === null) {
    if (!sn.quiet() || !sn.admit()) return false;
    sn.write(OK);
    return true;
  }
  return forwardPinned(sn, () => {
    if (!sn.st.inMulti) sn.st.watching = false;
  });
};
STATEFUL[Special.Subscribe] = (sn) => subscribe(sn);

export function subscribe(sn: Session): boolean {
  if (sn.st.inMulti || sn.st.passthrough) return forwardPinned(sn, null);
  const up = ensurePinned(sn);
  if (waitsForOwedReplies(sn, up)) return false;
  if (!sn.admit()) return false;
  // Confirmations come as Pub/Sub frames, one per channel, so the command itself is not
  // counted; a PING behind it tells when they are all in.
  sn.flushRun();
  up.pubsub = true;
  sn.st.subscribed = true;
  up.send(sn.parser.frameBytes(), sn, 0);
  up.send(PING_CMD, sn.marker, 1);
  sn.st.markers++;
  sn.current = up;
  return true;
}

export function endTransaction(sn: Session, which: Special): boolean {
  const label = which === Special.Exec ? 'EXEC' : 'DISCARD';
  if (!sn.st.inMulti) {
    if (sn.st.pinnedUp !== null) {
      return forwardPinned(sn, () => {
        sn.st.watching = false;
      });
    }
    if (!sn.quiet() || !sn.admit()) return false;
    sn.write(errorReply(`ERR ${label} without MULTI`));
    return true;
  }
  if (which === Special.Exec && sn.st.multiFailed) {
    if (!sn.quiet() || !sn.admit()) return false;
    sn.st.pinnedUp!.sendDiscarded(DISCARD_CMD);
    sn.st.inMulti = false;
    sn.st.multiFailed = false;
    sn.st.watching = false;
    sn.write(EXECABORT);
    return true;
  }
  const rewrites = which === Special.Exec ? sn.st.execRewrites : null;
  sn.st.execRewrites = null;
  if (rewrites !== null) {
    // Waits for the QUEUED replies, then rewrites the noted entries of EXEC's array.
    const up = sn.st.pinnedUp!;
    if (!forwardRewritten(sn, (reply) => rewriteExec(reply, rewrites), up)) {
      sn.st.execRewrites = rewrites;
      return false;
    }
  } else if (!forwardPinned(sn, null)) return false;
  sn.st.inMulti = false;
  sn.st.multiFailed = false;
  sn.st.watching = false;
  return true;
}
