// redis.conf for one process, generated from the desired state at every (re)start, so a restart
// after setLimits comes back with the current limits.
import {createHash} from 'node:crypto';
import {logfilePath, pidfilePath} from '../lib/home';
import {tenantUserConfigLine} from '../redis/tenant-user';

export const INTERNAL_USER = 'redfly';

export interface ProcessConfig {
  port: number;
  dir: string; // data folder: AOF, log, pidfile
  internalSecret: string; // user "redfly": the gateway, the control plane and replication
  maxmemoryBytes: number;
  eviction: boolean;
  /** 'persistent' (default): a managed database, AOF, one database, replication.
   *  'volatile': a regional cache backend, memory only, evicting (allkeys-lru) instead of
   *  refusing writes, databases 0 (the users') and 1 (the platform's replay cursor). */
  mode?: 'persistent' | 'volatile';
  /** What the database's clients set through the gateway (the record's redisSettings). */
  settings?: ClientSettings;
  /** Redis's `hz` (background tasks a second: expiring keys never read again, client timeouts),
   *  1-500; Redis's own default (10) when absent. Each idle redis-server costs about 0.12 % of a
   *  core at 10 and 0.016 % at 1 (measured for issue 11), which adds up on a host with 1,000. */
  hz?: number;
  /** A region host's copy (server start --role region): also reachable from other hosts, over
   *  TLS only, for replication and for their gateways. */
  tls?: ProcessTls;
}

/** REDFLY_REDIS_HZ: the `hz` of every database's redis-server (an integer from 1 to 500, Redis's
 *  range), undefined when unset; anything else is an error that names it. */
export function redisHzFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.REDFLY_REDIS_HZ;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new Error(`REDFLY_REDIS_HZ must be an integer from 1 to 500, not ${JSON.stringify(v)}`);
  return n;
}

/** Where and with what certificate a copy takes TLS connections from other hosts. The plain
 *  `port` stays for this host's gateway; the TLS port listens on `address` too. */
export interface ProcessTls {
  port: number;
  /** The host's own address (its --listen), besides 127.0.0.1. */
  address: string;
  certFile: string;
  keyFile: string;
  /** The CA other hosts' certificates chain to (their replicas verify ours with it too). */
  caFile: string;
}

/** redis.conf lines of a copy reachable from other hosts: Redis's own TLS (tls-port beside the
 *  plain port, tls-replication so a replica dials its primary with TLS). Clients are not asked
 *  for a certificate (tls-auth-clients no): they authenticate as the internal user, as on
 *  loopback, and the TLS channel keeps that password off the wire. */
export function tlsLines(t: ProcessTls | undefined): string[] {
  if (t === undefined) return ['bind 127.0.0.1'];
  // A wildcard address already covers loopback (binding both would collide).
  const wildcard = t.address === '0.0.0.0' || t.address === '::';
  return [
    wildcard ? `bind ${t.address}` : `bind 127.0.0.1 ${t.address}`,
    `tls-port ${t.port}`,
    `tls-cert-file ${quote(t.certFile)}`,
    `tls-key-file ${quote(t.keyFile)}`,
    `tls-ca-cert-file ${quote(t.caFile)}`,
    'tls-auth-clients no',
    'tls-replication yes',
  ];
}

/** The part of a database record's redisSettings a redis.conf renders (src/store/types.ts). */
export interface ClientSettings {
  aclUsers?: string[]; // `ACL LIST` lines, valid `user` directives as they are
  notifyKeyspaceEvents?: string;
}

/** redis.conf lines for what the database's clients set: their own users (after the internal
 *  ones, capped as src/gateway/acl.ts made them) and keyspace notifications. */
export function settingsLines(s: ClientSettings | undefined): string[] {
  if (s === undefined) return [];
  const out = (s.aclUsers ?? []).filter((l) => l.startsWith('user ') && !/[\r\n"']/.test(l));
  if (s.notifyKeyspaceEvents !== undefined) out.push(`notify-keyspace-events ${quote(s.notifyKeyspaceEvents)}`);
  return out;
}

export {configPath, logfilePath, pidfilePath} from '../lib/home';

// Keys with a TTL are evicted first; the gateway switches the primary to allkeys-random while
// no key with a TTL is left (it owns the policy while the database has clients).
export const evictionPolicy = (eviction: boolean): string => (eviction ? 'volatile-random' : 'noeviction');

// ACL rules use the SHA-256 form so the secret is not stored in clear in the file.
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

function quote(s: string): string {
  const escaped = s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  return `"${escaped}"`;
}

/**
 * Redis's own bound on what it holds for one client (Redis's client-output-buffer-limit, class
 * normal): the plan's memory, at least 32 MiB. Client output buffers count against maxmemory, so
 * a connection that holds more than the plan is closed rather than let the database refuse
 * writes or outgrow its plan. The gateway reads its connections at once and bounds each client
 * itself (src/gateway/admission.ts), so this is the backstop: it is met only by one pipeline whose
 * replies together exceed the plan (Redis builds them all before it writes). Not lower, because
 * the gateway's shared connection carries many clients' replies. Replicas keep their own class.
 */
export function outputBufferLimit(maxmemoryBytes: number): string {
  const hard = Math.max(32 << 20, maxmemoryBytes);
  return `client-output-buffer-limit normal ${hard} 0 0`;
}

export function renderConfig(c: ProcessConfig): string {
  const volatile = c.mode === 'volatile';
  return [
    '# Generated by redfly at every start of this process; edits are overwritten.',
    ...tlsLines(c.tls),
    `port ${c.port}`,
    'protected-mode yes',
    'daemonize no',
    'supervised no',
    `pidfile ${quote(pidfilePath(c.dir))}`,
    `logfile ${quote(logfilePath(c.dir))}`,
    'loglevel notice',
    'always-show-logo no',
    `dir ${quote(c.dir)}`,
    // A managed database has only database 0; SELECT 1 is then an error. A cache backend's
    // database 1 is the platform's (the users' database 1 is virtual and never reaches it).
    `databases ${volatile ? 2 : 1}`,
    ...(c.hz === undefined ? [] : [`hz ${c.hz}`]),
    `maxmemory ${c.maxmemoryBytes}`,
    `maxmemory-policy ${volatile ? 'allkeys-lru' : evictionPolicy(c.eviction)}`,
    outputBufferLimit(c.maxmemoryBytes),
    // Persistence is the AOF alone. appendfsync everysec is enough for a crash of the *process*:
    // Redis write(2)s the AOF buffer to the file before it sends the replies of the commands in
    // it, so every acknowledged write is already in the kernel's page cache when the process
    // dies. (It would not be enough for a machine crash, which can lose up to a second; and if
    // the disk stalls so long that the previous background fsync is still running, Redis may
    // postpone that write for up to 2 s.)
    // A volatile backend is a cache that "can vanish at any time": no AOF, no RDB.
    ...(volatile ? ['appendonly no'] : ['appendonly yes', 'appendfsync everysec', 'appendfilename "appendonly.aof"', 'appenddirname "appendonlydir"']),
    'save ""',
    // Replication straight from memory with no wait: a new replica gets its snapshot at once.
    // masterauth is set at run time (CONFIG SET before REPLICAOF), so that the internal secret
    // is in one file only ($REDFLY_HOME/internal-secret), never in a redis.conf.
    ...(volatile
      ? []
      : [
          'repl-diskless-sync yes',
          'repl-diskless-sync-delay 0',
          'replica-read-only yes',
          `masteruser ${INTERNAL_USER}`,
        ]),
    // Clients reach the data only through the gateway, which authenticates them by the database
    // password and talks to this process as the internal user: "default" has no password and is off.
    'user default reset off',
    `user ${INTERNAL_USER} reset on #${sha256(c.internalSecret)} ~* &* +@all`,
    // The gateway forwards tenant traffic as this user: what the service refuses is refused to
    // scripts and functions too.
    tenantUserConfigLine(c.internalSecret),
    ...settingsLines(c.settings),
    '',
  ].join('\n');
}
