// Which backend connection a command goes to: the region's copy for reads (read-your-writes:
// only once it has reached the connection's last write), the primary for writes, the
// connection's own pinned primary connection for stateful modes, and the copy that issued a
// SCAN-family cursor for its continuation (docs/architecture.md, "Cursors and read-your-writes").
import {CommandInfo, Route} from './commands';
import {encodeCommand, MAX_ARGS_KEPT} from './resp';
import type {Session} from './session';
import {NoBackend, W_REPLIES} from './state';
import {Endpoint} from './types';
import {Upstream} from './upstream';
import {forward} from './forward';

const WAIT_BUMP = encodeCommand(['PUBLISH', '__redfly__:wait', '']);

export function route(sn: Session, info: CommandInfo | null): boolean {
  let up: Upstream;
  let write = true;
  if (sn.st.passthrough || sn.st.inMulti || sn.st.watching || sn.st.sticky || sn.st.subscribed) {
    up = ensurePinned(sn);
  } else if (info === null) {
    up = primaryUp(sn);
  } else if (info.route === Route.Read) {
    up = info.cursorArg !== 0 ? cursorUp(sn, info) : readUp(sn);
    write = false;
  } else if (info.route === Route.Pinned) {
    up = ensurePinned(sn);
    write = info.writes;
  } else {
    up = primaryUp(sn);
    write = info.writes;
  }
  if (info !== null && info.name === 'wait' && !sn.st.inMulti && !sn.st.passthrough) {
    // WAIT counts replicas that reached the calling connection's last write. This client's
    // writes may have gone through a shared connection, so first make its own connection's
    // last write the newest one (a PUBLISH nobody receives replicates and moves the offset).
    if (!sn.quiet()) return false;
    sn.flushRun();
    up.sendDiscarded(WAIT_BUMP);
    return forward(sn, up, false);
  }
  if (info !== null && info.denyoom && !sn.st.inMulti && !sn.st.passthrough && sn.st.ts!.evictionGuard) {
    // When Redis runs out of keys with a TTL it refuses the write; the gateway then switches
    // eviction to any key and sends the write again. One at a time, so order holds.
    if (!sn.quiet()) return false;
    if (!forward(sn, up, true)) return false;
    sn.flushRun();
    sn.guarded = {bytes: Buffer.from(sn.parser.frameBytes()), up, tries: 0};
    sn.blocked |= W_REPLIES;
    return true;
  }
  sn.guarded = null;
  if (!forward(sn, up, write)) return false;
  if (info !== null && info.blocking && !sn.st.inMulti) {
    sn.blockingSeq = sn.sent;
    if (up.pinnedTo === sn) {
      // What other clients send to this primary from now on must not overtake it.
      sn.flushRun();
      sn.host.barrier(up);
    }
  }
  return true;
}

export function refreshRoutes(sn: Session): void {
  const ts = sn.st.ts!;
  const key = ts.version * 4 + sn.st.proto;
  if (key === sn.routeKey && sn.upPrimary !== null && !sn.upPrimary.closed &&
      (sn.upRead === null || !sn.upRead.closed)) return;
  sn.routeKey = key;
  const t = ts.tenant;
  if (t.kind === 'managed') {
    sn.upPrimary = sn.host.shared(sn.region, t.primary, sn.st.proto, ts, t.primaryRegion, sn.st.user, sn.st.pass);
    const replica = sn.region !== t.primaryRegion ? t.replicas[sn.region] : undefined;
    sn.upRead = replica === undefined ? null : sn.host.shared(sn.region, replica, sn.st.proto, ts, sn.region, sn.st.user, sn.st.pass);
  } else {
    const ep = sn.cacheEp;
    sn.upPrimary = ep === null ? null : sn.host.shared(sn.region, ep, sn.st.proto, ts, sn.region, sn.st.user, sn.st.pass);
    sn.upRead = null;
  }
}

export function primaryEndpoint(sn: Session): [Endpoint, string] | null {
  const t = sn.st.ts!.tenant;
  if (t.kind === 'managed') return [t.primary, t.primaryRegion];
  return sn.cacheEp === null ? null : [sn.cacheEp, sn.region];
}

export function primaryUp(sn: Session): Upstream {
  if (sn.st.pinnedUp !== null && !sn.st.pinnedUp.closed) return sn.st.pinnedUp;
  refreshRoutes(sn);
  if (sn.upPrimary === null) throw new NoBackend();
  return sn.upPrimary;
}

export function readUp(sn: Session): Upstream {
  refreshRoutes(sn);
  if (sn.upRead !== null && sn.st.ts!.replicaUsable(sn.region, sn.st.needEpoch)) return sn.upRead;
  return primaryUp(sn);
}

/**
 * The copy for a SCAN-family call. Cursor 0 starts an iteration on the copy read-your-writes
 * picks; any other cursor continues on the copy that started it, even after the client's own
 * writes (docs/architecture.md, "Cursors and read-your-writes").
 */
export function cursorUp(sn: Session, info: CommandInfo): Upstream {
  const p = sn.parser;
  if (p.frameArgc <= info.cursorArg || info.cursorArg >= MAX_ARGS_KEPT) return readUp(sn);
  const key = info.cursorArg === 1 ? info.name : `${info.name} ${p.argString(1)}`;
  const cursor = p.argString(info.cursorArg);
  if (cursor !== '0') {
    const onReplica = sn.st.cursors?.get(key);
    if (onReplica === undefined) return readUp(sn);
    if (!onReplica) return primaryUp(sn);
    refreshRoutes(sn);
    return sn.upRead !== null && !sn.upRead.closed ? sn.upRead : primaryUp(sn);
  }
  const up = readUp(sn);
  if (sn.st.cursors === null) sn.st.cursors = new Map();
  sn.st.cursors.delete(key);
  if (sn.st.cursors.size >= 64) sn.st.cursors.delete(sn.st.cursors.keys().next().value as string);
  sn.st.cursors.set(key, up === sn.upRead && up !== sn.upPrimary);
  return up;
}

export function ensurePinned(sn: Session): Upstream {
  if (sn.st.pinnedUp !== null && !sn.st.pinnedUp.closed) return sn.st.pinnedUp;
  const target = primaryEndpoint(sn);
  if (target === null) throw new NoBackend();
  sn.st.pinnedUp = sn.host.pinned(sn.region, target[0], sn.st.proto, sn.st.ts!, target[1], sn, sn.st.user, sn.st.pass);
  return sn.st.pinnedUp;
}

export function dropPinned(sn: Session): void {
  if (sn.st.pinnedUp !== null) {
    const up = sn.st.pinnedUp;
    sn.st.pinnedUp = null;
    if (sn.current === up) {
      // Replies it still owed will never arrive.
      sn.recv = sn.sent;
      sn.current = null;
    }
    up.close();
  }
  sn.st.inMulti = false;
  sn.st.multiFailed = false;
  sn.st.watching = false;
  sn.st.sticky = false;
  sn.st.passthrough = false;
  sn.st.subscribed = false;
  sn.st.markers = 0;
}
