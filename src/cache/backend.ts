// The volatile redis-server behind one organization's cache in one region. Memory only (no AOF,
// no RDB), evicting (allkeys-lru) instead of refusing writes, reachable only with an internal
// secret. Processes are started detached and recorded (port, pid, secret) so that a restart of
// the server process that owns them adopts them instead of wiping every region's cache; a
// process that dies is started again on the same port, empty, and its applier replays the
// retained backlog into it. The process itself is started by provision/runner.ts with the
// volatile config of provision/config.ts, on a port from provision/ports.ts, like a database's.
import type {ChildProcess} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {backendDir} from '../lib/home';
import {isRedisServer, terminate} from '../lib/pids';
import {INTERNAL_USER, renderConfig} from '../provision/config';
import {findFreePort} from '../provision/ports';
import {spawnRedis} from '../provision/runner';
import {RedisConnection} from '../redis/client';
import {parseInfo} from '../redis/info';
import {BackendRecord, ReplayLog} from './log';

/** The ACL user the platform uses on cache backends (user "default" is disabled): the same
 *  internal user as on the databases' processes. */
export const CACHE_INTERNAL_USER = INTERNAL_USER;

export interface BackendAddress {
  host: string;
  port: number;
  username: string;
  password: string;
}

export interface BackendOptions {
  stateDir: string;
  redisServer: string;
  maxmemoryBytes: number;
  internalSecret?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A live redis-server with this pid: not a zombie, and not some other program that was given
 *  the pid of a backend that died (pids are reused). */
function alive(pid: number | null): boolean {
  return pid !== null && pid > 0 && isRedisServer(pid);
}

export class Backend {
  child: ChildProcess | null = null;
  starting: Promise<void> | null = null;
  stopping = false;
  restarts = 0;
  private nextStartAt = 0;

  /** Supervision backs off (up to 30 s) while a process keeps dying or failing to start. */
  mayRestart(now: number): boolean {
    return now >= this.nextStartAt;
  }

  noteRestart(now: number, lastUpAt: number | null): void {
    // A process that ran for a minute is healthy again: start over with no delay.
    if (lastUpAt !== null && now - lastUpAt > 60_000) this.restarts = 0;
    this.restarts++;
    this.nextStartAt = now + Math.min(30_000, 100 * 2 ** Math.min(this.restarts, 9));
  }

  upSince: number | null = null;

  constructor(
    readonly org: string,
    readonly region: string,
    public port: number,
    public secret: string,
    public pid: number | null,
  ) {}

  get address(): BackendAddress {
    return {host: '127.0.0.1', port: this.port, username: CACHE_INTERNAL_USER, password: this.secret};
  }

  get running(): boolean {
    return alive(this.pid);
  }

  /** An authenticated connection. `opened` sees it before AUTH is answered, so a caller can
   *  close it while a stopped (SIGSTOP) process never answers. */
  async connect(opened?: (conn: RedisConnection) => void): Promise<RedisConnection> {
    const conn = await RedisConnection.connect(this.port);
    opened?.(conn);
    try {
      await conn.call('AUTH', CACHE_INTERNAL_USER, this.secret);
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }
}

export class BackendPool {
  private readonly backends = new Map<string, Backend>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly opts: BackendOptions,
    private readonly log: ReplayLog,
  ) {}

  private key = (org: string, region: string) => `${org}\u0000${region}`;

  get(org: string, region: string): Backend | undefined {
    return this.backends.get(this.key(org, region));
  }

  all(): Backend[] {
    return [...this.backends.values()];
  }

  /** Adopts the processes recorded by an earlier run that are still ours and alive; starts a
   *  supervision poll that brings back processes that died. Returns the adopted backends. */
  async adopt(): Promise<Backend[]> {
    const adopted: Backend[] = [];
    for (const rec of this.log.backends()) {
      // '' = the platform's internal secret, which is kept in one file only, not in this log.
      const b = new Backend(rec.org, rec.region, rec.port, rec.secret || (this.opts.internalSecret ?? ''), rec.pid);
      if (rec.secret !== '' && rec.secret === this.opts.internalSecret) this.log.saveBackend({...rec, secret: ''});
      this.backends.set(this.key(rec.org, rec.region), b);
      if (b.running && (await this.isOurs(b))) {
        await this.alignSecret(b);
        adopted.push(b);
      } else {
        b.pid = null;
        await this.start(b);
        adopted.push(b);
      }
    }
    this.timer = setInterval(() => this.supervise(), 250);
    this.timer.unref();
    return adopted;
  }

  /** What the log keeps of a backend's secret: nothing when it is the platform's own. */
  private storedSecret(b: Backend): string {
    return b.secret === this.opts.internalSecret ? '' : b.secret;
  }

  /** An adopted process keeps its data when the platform's secret changed between runs. */
  private async alignSecret(b: Backend): Promise<void> {
    const wanted = this.opts.internalSecret;
    if (!wanted || wanted === b.secret) return;
    const conn = await b.connect();
    try {
      await conn.call('ACL', 'SETUSER', CACHE_INTERNAL_USER, 'resetpass', `>${wanted}`);
    } finally {
      conn.close();
    }
    b.secret = wanted;
    this.log.saveBackend({org: b.org, region: b.region, port: b.port, secret: this.storedSecret(b), pid: b.pid});
  }

  private async isOurs(b: Backend): Promise<boolean> {
    try {
      const conn = await b.connect();
      try {
        const info = parseInfo(await conn.text('INFO', 'server'));
        return Number(info.process_id) === b.pid;
      } finally {
        conn.close();
      }
    } catch {
      return false;
    }
  }

  /** The backend of (org, region), started if needed. */
  async ensure(org: string, region: string): Promise<Backend> {
    let b = this.get(org, region);
    if (!b) {
      const used = new Set(this.all().map((x) => x.port));
      const secret = this.opts.internalSecret ?? randomBytes(24).toString('hex');
      b = new Backend(org, region, await findFreePort(used), secret, null);
      this.backends.set(this.key(org, region), b);
    }
    if (!b.running) await this.start(b);
    else if (b.starting) await b.starting;
    return b;
  }

  private start(b: Backend): Promise<void> {
    if (!b.starting) {
      b.starting = this.startOnce(b).finally(() => {
        b.starting = null;
      });
    }
    return b.starting;
  }

  private async startOnce(b: Backend): Promise<void> {
    const dir = backendDir(this.opts.stateDir, b.org, b.region);
    for (let attempt = 0; ; attempt++) {
      const config = renderConfig({
        port: b.port,
        dir,
        internalSecret: b.secret,
        maxmemoryBytes: this.opts.maxmemoryBytes,
        eviction: true,
        mode: 'volatile',
      });
      // unref: a backend outlives this process when it is not stopped (the next run adopts it)
      const {child} = spawnRedis({binary: this.opts.redisServer, dir, config, unref: true});
      let exited = false;
      child.once('exit', () => {
        exited = true;
      });
      child.once('error', () => {
        exited = true;
      });
      b.child = child;
      b.pid = child.pid ?? null;
      const deadline = Date.now() + 5000;
      while (!exited && Date.now() < deadline) {
        if (await this.isOurs(b)) {
          b.upSince = Date.now();
          this.log.saveBackend({org: b.org, region: b.region, port: b.port, secret: this.storedSecret(b), pid: b.pid} satisfies BackendRecord);
          return;
        }
        await sleep(5);
      }
      if (!exited) child.kill('SIGKILL');
      b.pid = null;
      // Most likely the port was taken meanwhile: choose another one.
      if (attempt >= 3) throw new Error(`cache backend for ${b.org} in ${b.region} did not start (see ${dir}/redis.log)`);
      b.port = await findFreePort(new Set(this.all().map((x) => x.port)));
    }
  }

  private supervise(): void {
    const now = Date.now();
    for (const b of this.backends.values()) {
      if (b.stopping || b.starting || b.running || !b.mayRestart(now)) continue;
      // pid null: an earlier restart failed; keep trying, with the same backoff.
      b.noteRestart(now, b.upSince);
      b.upSince = null;
      this.start(b).catch(() => undefined);
    }
  }

  /** Stops the process and forgets the record. */
  async stop(b: Backend): Promise<void> {
    b.stopping = true;
    await killAndWait(b.pid);
    b.pid = null;
    this.backends.delete(this.key(b.org, b.region));
    this.log.deleteBackend(b.org, b.region);
  }

  /** Stops supervision; with `stopProcesses` every process is stopped (server shutdown),
   *  without it they keep running for the next run to adopt. */
  async close(stopProcesses: boolean): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const b of this.backends.values()) b.stopping = true;
    if (stopProcesses) await Promise.all(this.all().map((b) => this.stop(b)));
  }
}

async function killAndWait(pid: number | null): Promise<void> {
  if (!alive(pid)) return;
  await terminate(pid!, {timeoutMs: 3000});
}
