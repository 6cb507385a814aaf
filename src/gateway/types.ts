import type {TlsMaterial} from '../net/listener';
import type {AdmissionOptions} from './admission';
import type {DialTls} from '../net/dial';

// The gateway's contract with the process that hosts it (the control plane) and with the
// regional cache. The gateway knows nothing of HTTP or SQLite: the host hands it a directory
// it keeps current, and reads usage back.
import type {ExecuteRequest, ExecuteResult, SubscribeRequest, SubscribeResult} from './execute';
import type {UsageExchange} from './usage-sync';
import type {Upstream} from './upstream';

export type {ExecuteRequest, ExecuteResult, SubscribeRequest, SubscribeResult};

export interface Endpoint {
  host: string;
  port: number;
  /** A redis-server on another host: its tls-port, verified with this CA (src/net/dial.ts). */
  tls?: DialTls;
}

/** Plan limits the gateway enforces; the same fields as `Plan` in src/api/types.ts, so a Plan
 *  record can be passed as is. */
export interface Limits {
  maxDataSizeBytes: number;
  maxConnections: number;
  maxCommandsPerSecond: number;
  maxDailyCommands: number | null; // null = unlimited
  maxDailyBandwidthBytes: number;
  maxRequestSizeBytes: number;
}

export interface ManagedTenant {
  kind: 'managed';
  id: string;
  plan: Limits;
  eviction: boolean;
  primaryRegion: string;
  primary: Endpoint;
  /** The copy in each read region (replicas). The primary region may be omitted. */
  replicas: Record<string, Endpoint>;
}

/**
 * Database 1 of an organization's regional cache. After `SELECT 1` every command the client
 * sends (except AUTH, HELLO, QUIT and RESET, which the gateway answers as in database 0) is
 * handed to `accept`, one at a time and in the order the client sent them; the gateway waits for
 * the answer before it looks at the next command of that client. Framing, Redis's protocol
 * limits, the request size, the daily limits and the rate are applied before.
 *  - `{reply}`: RESP bytes for the client (the same in RESP2 and RESP3), e.g. `+OK\r\n`;
 *    `select: 0 | 1` also switches the connection's database (SELECT is passed here too).
 *  - `{connection: true}`: a connection command; the gateway answers it as in database 0.
 * A thrown error or rejected promise answers `-ERR <message>`.
 */
export type VirtualDbResult = {reply: Buffer; select?: 0 | 1} | {connection: true};

export interface VirtualDb {
  accept(args: Buffer[], ctx: VirtualDbContext): VirtualDbResult | Promise<VirtualDbResult>;
}

export interface VirtualDbContext {
  region: string; // the gateway endpoint the client is connected to
  tenant: CacheTenant;
}

export interface CacheTenant {
  kind: 'cache';
  id: string; // unique among all tenants (managed and cache), e.g. "cache:<org>"
  org: string;
  /** Database 0 in a region: the region's own cache redis-server (may start it on first use).
   *  Called once per client connection, after AUTH. Rejecting closes that connection. */
  backend(region: string): Endpoint | Promise<Endpoint>;
  virtualDb: VirtualDb;
  /** Optional limits; without them only Redis's protocol limits and a 10 MB request size apply. */
  plan?: Limits;
}

export type Tenant = ManagedTenant | CacheTenant;

export interface Directory {
  /** The tenant whose current password this is. Called on every AUTH / HELLO AUTH, so a reset
   *  password stops working for new connections as soon as the directory forgets it. */
  byPassword(password: string): Tenant | undefined;
  /** Current record of a tenant, used about once a second to pick up plan, eviction and
   *  region changes for connected clients. Returning undefined (deleted) closes its clients. */
  byId?(id: string): Tenant | undefined;
  /** The database a user made with ACL SETUSER belongs to, found by its name and the SHA-256
   *  (hex) of a password it has (AUTH <user> <pass>, HELLO AUTH); undefined = WRONGPASS. Without it only `default`
   *  logs in. */
  byUser?(user: string, passwordSha256: string): ManagedTenant | undefined;
}

/** Simulated round trip between two regions in ms (0 = none). */
export type LatencyFn = (fromRegion: string, toRegion: string) => number;

export interface GatewayOptions {
  host?: string; // default 127.0.0.1
  /** Speak TLS on every endpoint (rediss://) with this certificate and key. */
  tls?: TlsMaterial | null;
  /** Admission control; unset fields come from the environment, then the defaults of
   *  src/gateway/admission.ts. */
  admission?: Partial<AdmissionOptions>;
  regions: string[];
  port?: (region: string) => number; // 0 / absent = ephemeral; see GatewayHandle.endpoints
  /** Password of ACL user "redfly" on every redis-server behind the gateway. */
  internalSecret: string;
  internalUser?: string; // default "redfly"
  /** Backend user (same secret) that client commands are forwarded as; default internalUser.
   *  A user with the service's refusals as Redis ACL rules (src/redis/tenant-user.ts) makes
   *  them hold inside scripts and functions too. The monitor keeps the internal user. */
  tenantUser?: string;
  directory: Directory;
  /** true = delay derived from the distance between regions (data/regions.json). */
  simulateLatency?: boolean | LatencyFn;
  /** How often the gateway samples replication offsets and memory of tenants that have clients.
   *  Default 100 ms. */
  monitorIntervalMs?: number;
  log?: (msg: string) => void;
  /** Today's usage saved by the host before a restart, so that daily limits survive it. Called
   *  once per tenant when the gateway first sees it; ignored unless `day` is today (UTC). */
  usageSeed?: (tenantId: string) => UsageSeed | undefined;
  /** A client changed something in its database's Redis that must survive a restart of its
   *  copies (the fields given are the new values): to keep with the record and render into
   *  every copy's config at its next start. May return a promise, settled once it is kept
   *  (never rejected: the host reports its own failures). */
  saveClientSettings?: (tenantId: string, changed: ClientSettings) => void | Promise<void>;
  /** Worker mode: this process is one of several serving the same tenants; its counters are
   *  exchanged for the totals every 100 ms (usage-sync.ts). Without it, this process's own
   *  counters are the totals. */
  usageSync?: UsageExchange;
  /** Client ids (CLIENT ID) this process hands out: start, start + stride, ... Default 1, 1.
   *  Worker mode gives each worker its own residue so that ids stay unique across workers. */
  clientIds?: {start: number; stride: number};
}

/** What a database's clients set in its Redis through the gateway. */
export interface ClientSettings {
  /** `ACL LIST` lines of the database's own users (ACL SETUSER / DELUSER), hashes only. */
  aclUsers?: string[];
  /** CONFIG SET notify-keyspace-events, as accepted by Redis. */
  notifyKeyspaceEvents?: string;
}

export interface UsageSeed {
  day: string; // "YYYY-MM-DD", UTC
  commandsToday: number;
  bandwidthTodayBytes: number;
}

export interface Usage {
  day: string; // "YYYY-MM-DD" (UTC) the daily counters belong to
  connections: number;
  commandsToday: number;
  bandwidthTodayBytes: number;
  /** Last sampled used_memory of the primary (null when the tenant has not been sampled). */
  dataSizeBytes: number | null;
  /** Per read region; null when the replica is down or not yet sampled. */
  replicationLagMs: Record<string, number | null>;
}

export interface GatewayHandle {
  endpoints: Record<string, Endpoint>;
  usage(tenantId: string): Usage;
  /** Sample a tenant's backends now (data size, replication lag), whether or not it has clients. */
  probe(tenant: Tenant): Promise<Pick<Usage, 'dataSizeBytes' | 'replicationLagMs'>>;
  /** Run commands for a tenant in a region without a RESP connection (the REST API): one
   *  connection of the gateway's own, with everything a client's commands go through. See
   *  execute.ts. */
  execute(req: ExecuteRequest): Promise<ExecuteResult>;
  /** Hold a SUBSCRIBE/PSUBSCRIBE for a client that is not a RESP connection (the REST API's
   *  Server-Sent Events): frames go to `onFrame` until `close()`. See execute.ts. */
  subscribe(req: SubscribeRequest): Promise<SubscribeResult>;
  /** Close every client connection of a tenant (password reset, deletion). */
  disconnect(tenantId: string): void;
  /** Worker mode (a gateway process among several): resolves once every command counted before
   *  the call is in usage(), so that stats read right after a client's replies include them. */
  flushUsage?(): Promise<void>;
  /** Worker mode only (cluster.ts): the gateway worker processes, for `redfly server status`. */
  workers?(): GatewayWorkerInfo[];
  close(): Promise<void>;
}

/** One gateway worker process (worker mode). */
export interface GatewayWorkerInfo {
  slot: number; // 1..N, kept by the worker that replaces a dead one
  pid: number | null; // null while it is being replaced
  state: 'starting' | 'ready' | 'restarting';
  /** Times this slot's worker died and was replaced since the server started. */
  restarts: number;
  startedAt: string | null; // ISO time the current process became ready
  /** Client connections it holds (as of its last usage report, at most 100 ms old). */
  connections: number;
}

/** Worker mode: what a gateway worker process knows of the directory, sent by the control
 *  process at the worker's start (a snapshot) and at every change. Passwords are in it: it only
 *  travels over the IPC channel between the control process and its own workers. */
export interface DirectorySnapshot {
  managed: ManagedEntry[];
  caches: CacheEntry[];
}

export interface ManagedEntry {
  tenant: ManagedTenant;
  password: string;
  /** "<user>\0<sha256 hex of a password>" of each of the database's own users (Directory.byUser). */
  userKeys: string[];
}

/** An organization's regional cache: its tenant id (e.g. "cache:<org>") and password. */
export interface CacheEntry {
  id: string;
  org: string;
  password: string;
}

/** One change: the entry as it is now, or null when it is gone. */
export type DirectoryChange = {managed: string; entry: ManagedEntry | null} | {cache: string; entry: CacheEntry | null};

/** Whoever waits for replies on an upstream. */
export interface ReplySink {
  /** The bytes buf[start, end) continue the reply stream of this sink (a range rather than a view:
   *  no Buffer object per reply); `complete` replies ended in them. They are valid during the call
   *  only (a shared upstream reads into the same buffer again): a sink that keeps them copies them,
   *  or calls `from.lend()` (as Session does when its client socket holds them). */
  deliver(buf: Buffer, start: number, end: number, complete: number, from: Upstream): void;
  /** The upstream broke with replies still owed to this sink. */
  upstreamLost(from: Upstream, reason: string): void;
  /** Redis refused a write for memory; true = the sink retries it, drop this reply. */
  retryOom?(from: Upstream): boolean;
  /** Set on the sink of the PING sent after (un)subscribe commands: until its reply, (un)subscribe
   *  confirmations are due, and they are out of band. */
  readonly confirms?: boolean;
}
