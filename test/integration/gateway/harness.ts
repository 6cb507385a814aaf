// Real redis-server processes (a primary and replicas) under a temp folder on ports found at
// run time, plus a gateway over them with an in-memory directory.
import {ChildProcess, spawn, execFile} from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import {lineHashes, parseAclLine} from '../../../src/redis/acl-users';
import {tenantAclRules} from '../../../src/redis/refusals';
import {TENANT_USER} from '../../../src/redis/tenant-user';
import {ClientSettings, GatewayHandle, GatewayOptions, Limits, ManagedTenant, startGateway, Tenant} from '../../../src/gateway';

export const SECRET = 'internal-secret-for-tests';

export const BIG_PLAN: Limits = {
  maxDataSizeBytes: 1024 * 1024 * 1024,
  maxConnections: 1000,
  maxCommandsPerSecond: 1_000_000,
  maxDailyCommands: null,
  maxDailyBandwidthBytes: 1e15,
  maxRequestSizeBytes: 10 * 1024 * 1024,
};

/** An ioredis client of `port` that fails fast instead of retrying (errors surface in the
 *  test's awaits); `direct`: as the redis-server's own default user (a bare redis-server beside
 *  the gateway, for comparison). */
export function testClient(port: number, password: string, direct = false): Redis {
  const r = new Redis({port, host: '127.0.0.1', password, ...(direct ? {username: 'default'} : {}),
    maxRetriesPerRequest: 0, retryStrategy: () => null});
  r.on('error', () => {});
  return r;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RedisProc {
  port: number;
  proc: ChildProcess;
  dir: string;
}

/** `defaultRules` replaces the default user's rules (`~* &* +@all -@admin`), e.g. for a plain
 *  password-protected redis-server that a test compares the gateway with. */
export async function startRedis(root: string, opts: {password: string; replicaOf?: number; extra?: string[]; defaultRules?: string}): Promise<RedisProc> {
  const port = await freePort();
  const dir = path.join(root, String(port));
  fs.mkdirSync(dir, {recursive: true});
  const conf = [
    'bind 127.0.0.1',
    `port ${port}`,
    `dir ${dir}`,
    'save ""',
    'appendonly no',
    'databases 1',
    `masteruser redfly`,
    `masterauth ${SECRET}`,
    `user default on >${opts.password} ${opts.defaultRules ?? '~* &* +@all -@admin'}`,
    `user redfly on >${SECRET} ~* &* +@all`,
    `user ${TENANT_USER} on >${SECRET} ${tenantAclRules()}`,
    'repl-diskless-sync yes',
    'repl-diskless-sync-delay 0',
    ...(opts.replicaOf ? [`replicaof 127.0.0.1 ${opts.replicaOf}`] : []),
    ...(opts.extra ?? []),
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'redis.conf'), conf);
  const proc = spawn('redis-server', [path.join(dir, 'redis.conf')], {stdio: 'ignore'});
  const r = {port, proc, dir};
  for (let i = 0; i < 100; i++) {
    try {
      const c = admin(port);
      const info = String(await c.call('INFO', 'replication'));
      c.disconnect();
      if (!opts.replicaOf || info.includes('master_link_status:up')) return r;
    } catch {
      // not up yet
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`redis-server on ${port} did not start`);
}

/** Starts a stopped process again on its port with its config (and waits for replication). */
export async function restartRedis(r: RedisProc): Promise<void> {
  r.proc = spawn('redis-server', [path.join(r.dir, 'redis.conf')], {stdio: 'ignore'});
  for (let i = 0; i < 100; i++) {
    try {
      const c = admin(r.port);
      const info = String(await c.call('INFO', 'replication'));
      c.disconnect();
      if (!info.includes('role:slave') || info.includes('master_link_status:up')) return;
    } catch {
      // not up yet
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`redis-server on ${r.port} did not come back`);
}

export function admin(port: number): Redis {
  const r = new Redis({port, host: '127.0.0.1', username: 'redfly', password: SECRET, lazyConnect: false, maxRetriesPerRequest: 0, retryStrategy: () => null});
  r.on('error', () => {});
  return r;
}

export function stopRedis(r: RedisProc): Promise<void> {
  return new Promise((resolve) => {
    if (r.proc.exitCode !== null || r.proc.signalCode !== null) return resolve();
    r.proc.once('exit', () => resolve());
    r.proc.kill('SIGKILL');
  });
}

export class MemoryDirectory {
  private readonly byPw = new Map<string, Tenant>();
  private readonly ids = new Map<string, Tenant>();
  set(password: string, t: Tenant): void {
    for (const [pw, old] of this.byPw) if (old.id === t.id) this.byPw.delete(pw);
    this.byPw.set(password, t);
    this.ids.set(t.id, t);
  }
  delete(id: string): void {
    for (const [pw, old] of this.byPw) if (old.id === id) this.byPw.delete(pw);
    this.ids.delete(id);
  }
  byPassword(pw: string): Tenant | undefined {
    return this.byPw.get(pw);
  }
  byId(id: string): Tenant | undefined {
    return this.ids.get(id);
  }
  /** What each database saved (saveClientSettings), as the control plane's record keeps it. */
  readonly aclUsers = new Map<string, string[]>();
  readonly notify = new Map<string, string>();
  saveClientSettings = (id: string, changed: ClientSettings): void => {
    if (changed.aclUsers !== undefined) this.aclUsers.set(id, changed.aclUsers);
    if (changed.notifyKeyspaceEvents !== undefined) this.notify.set(id, changed.notifyKeyspaceEvents);
  };
  byUser(user: string, sha: string): ManagedTenant | undefined {
    for (const [id, lines] of this.aclUsers) {
      for (const l of lines) {
        if (parseAclLine(l)?.name === user && lineHashes(l).includes(sha)) return this.ids.get(id) as ManagedTenant;
      }
    }
    return undefined;
  }
}

export interface Cluster {
  root: string;
  primary: RedisProc;
  replicas: Record<string, RedisProc>;
  tenant: ManagedTenant;
  password: string;
}

/** A database: primary in `primaryRegion`, one replica per read region; `extra`: more
 *  redis.conf lines for each of its redis-servers. */
export async function startDatabase(root: string, id: string, password: string, primaryRegion: string,
                                    readRegions: string[], plan: Limits = BIG_PLAN, eviction = false,
                                    extra: string[] = []): Promise<Cluster> {
  const primary = await startRedis(root, {password, extra});
  const replicas: Record<string, RedisProc> = {};
  for (const r of readRegions) replicas[r] = await startRedis(root, {password, replicaOf: primary.port, extra});
  const tenant: ManagedTenant = {
    kind: 'managed',
    id,
    plan,
    eviction,
    primaryRegion,
    primary: {host: '127.0.0.1', port: primary.port},
    replicas: Object.fromEntries(Object.entries(replicas).map(([r, p]) => [r, {host: '127.0.0.1', port: p.port}])),
  };
  return {root, primary, replicas, tenant, password};
}

export async function stopDatabase(c: Cluster | undefined): Promise<void> {
  if (!c) return;
  await Promise.all([stopRedis(c.primary), ...Object.values(c.replicas).map(stopRedis)]);
}

const roots: string[] = [];
// Registered by each test file that imports the harness; redis-servers hold no files open there
// (no persistence), so the folders can go even if a server is still being stopped.
afterAll(() => {
  for (const r of roots.splice(0)) fs.rmSync(r, {recursive: true, force: true});
});

/** A temp folder for this test file's redis-servers, removed when the test process exits. */
export function tempRoot(): string {
  const r = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-gw-'));
  roots.push(r);
  return r;
}

export async function gateway(dir: MemoryDirectory, regions: string[], extra: Partial<GatewayOptions> = {}): Promise<GatewayHandle> {
  return startGateway({regions, internalSecret: SECRET, tenantUser: TENANT_USER, directory: dir, monitorIntervalMs: 50,
    saveClientSettings: dir.saveClientSettings, ...extra});
}

/** redis-cli against an endpoint; resolves stdout (and stderr appended). */
export function redisCli(port: number, args: string[], input?: string): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {timeout: 20000}, (err, stdout, stderr) => {
      resolve(stdout + stderr);
    });
    if (input !== undefined) {
      child.stdin!.end(input);
    }
  });
}

/** A raw socket: send bytes, collect what comes back until `until` matches or the socket closes. */
export function raw(port: number, payload: Buffer | string, until?: (got: string) => boolean, timeoutMs = 3000): Promise<{data: string; closed: boolean}> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    let closed = false;
    const done = () => {
      clearTimeout(t);
      s.destroy();
      resolve({data, closed});
    };
    const t = setTimeout(done, timeoutMs);
    s.on('data', (d) => {
      data += d.toString('latin1');
      if (until && until(data)) done();
    });
    s.on('close', () => {
      closed = true;
      done();
    });
    s.on('error', () => {});
    s.write(payload);
  });
}

/** Connections the gateway holds on a redis-server, by kind ('pinned' | 'shared' | 'monitor'). */
export async function clientCount(port: number, kind = 'pinned'): Promise<number> {
  const a = admin(port);
  try {
    const list = String(await a.call('CLIENT', 'LIST', 'TYPE', 'normal'));
    return list.split('\n').filter((l) => l.includes(` name=redfly-${kind} `)).length;
  } finally {
    a.disconnect();
  }
}

export async function until(fn: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Clients a redis-server reports as blocked (BLPOP, XREAD BLOCK, ...) right now. */
export async function blockedClients(port: number): Promise<number> {
  const a = admin(port);
  try {
    const m = /blocked_clients:(\d+)/.exec(String(await a.call('INFO', 'clients')));
    return m ? Number(m[1]) : 0;
  } finally {
    a.disconnect();
  }
}
