// The state of one client connection as Redis would hold it, in one place: who it is logged in
// as, its protocol, name and database, its transaction (with the failed flag), subscriptions,
// reply mode, its own pinned backend connection, the copy each open cursor belongs to, and
// what read-your-writes still waits for. RESET and a new AUTH act on this object.
import {TenantState} from './tenant';
import {Upstream} from './upstream';

export class ConnState {
  /** The tenant the connection is logged in to (null = not authenticated). */
  ts: TenantState | null = null;
  /** The database user it logged in as ("default" = the database password). */
  user = 'default';
  /** A database user's password, for its own backend connections (null for "default"). */
  pass: string | null = null;
  proto: 2 | 3 = 2;
  name: string | null = null;
  db = 0;
  /** The client's own primary connection (MULTI, WATCH, blocking, scripts, Pub/Sub...). */
  pinnedUp: Upstream | null = null;
  inMulti = false;
  /** A command was refused at queue time: EXEC answers EXECABORT. */
  multiFailed = false;
  /** Commands queued since MULTI (their positions in the EXEC reply). */
  queued = 0;
  /** Entries of the EXEC reply the gateway rewrites, by position (multi.ts); null = none. */
  execRewrites: Map<number, (entry: Buffer) => Buffer> | null = null;
  watching = false;
  /** Connection-level state lives on the pinned connection (CLIENT TRACKING...). */
  sticky = false;
  /** CLIENT REPLY OFF/SKIP: the pinned connection talks to the client directly, uncounted. */
  passthrough = false;
  /** CLIENT NO-EVICT on (shown as flag `e`). */
  noEvict = false;
  /** CLIENT TRACKING on REDIRECT <id>: that client-visible id (null = none, ask the backend). */
  trackingRedirect: number | null = null;
  /** Pub/Sub: messages arrive out of band on the pinned connection. */
  subscribed = false;
  /** PINGs sent after (un)subscribe commands, not yet answered. */
  markers = 0;
  /** SCAN family: iteration (command and key) -> started on the region's replica. */
  cursors: Map<string, boolean> | null = null;
  /** Read-your-writes: reads may use the replica once it reached this sampling epoch. */
  needEpoch = 0;
  /** The `sent` count of this connection's last write whose reply is still owed (0 = none). */
  lastWriteSeq = 0;
}

// Reasons a session stops reading its parsed commands.
export const W_REPLIES = 1; // replies still owed by another upstream / before a local answer
export const W_RATE = 2;
export const W_DRAIN = 4; // client is not reading its replies
export const W_UPDRAIN = 8; // backend is not taking our writes
export const W_ASYNC = 16; // waiting for the command table or the virtual database

/** No backend connection can be made for the command's route (answered as an error). */
export class NoBackend extends Error {
  constructor() {
    super('no backend for this region');
  }
}
