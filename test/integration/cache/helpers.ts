// Shared set-up for the regional-cache tests: a CacheService over real redis-server processes
// in a temp folder, direct connections to each region's backend (what the gateway forwards
// database 0 to), and a digest of a region's data.
import {createHash} from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import {CacheService} from '../../../src/cache';
import {CacheConfig} from '../../../src/cache/types';

export const REGIONS = ['mad', 'ams', 'syd'];

export function tempDir(prefix = 'redfly-cache-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function openCache(stateDir: string, extra: Partial<CacheConfig> = {}): Promise<CacheService> {
  return CacheService.open({stateDir, regions: REGIONS, maxmemoryBytes: 64 * 1024 * 1024, ...extra});
}

/** Direct clients to database 0 of each region, for assertions. */
export class Regions {
  private readonly clients = new Map<string, Redis>();
  constructor(
    private readonly cache: CacheService,
    private readonly org: string,
  ) {}

  async client(region: string): Promise<Redis> {
    let c = this.clients.get(region);
    if (!c) {
      const a = await this.cache.backend(this.org, region);
      c = new Redis({host: a.host, port: a.port, username: a.username, password: a.password, lazyConnect: true, maxRetriesPerRequest: 50});
      await c.connect();
      this.clients.set(region, c);
    }
    return c;
  }

  async each<T>(fn: (c: Redis, region: string) => Promise<T>): Promise<Record<string, T>> {
    const out: Record<string, T> = {};
    for (const r of REGIONS) out[r] = await fn(await this.client(r), r);
    return out;
  }

  /** A digest of every key of database 0: its type, its absolute expiry and its value read
   *  with the type's own commands (DEBUG DIGEST is disabled on the backends). */
  digests(match = '*'): Promise<Record<string, string>> {
    return this.each((c) => digest(c, match));
  }

  close(): void {
    for (const c of this.clients.values()) c.disconnect();
    this.clients.clear();
  }
}

export async function digest(c: Redis, match = '*'): Promise<string> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await c.scan(cursor, 'MATCH', match, 'COUNT', 500);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  keys.sort();
  const h = createHash('sha256');
  for (const k of keys) {
    const type = await c.type(k);
    const expiry = await c.call('PEXPIRETIME', k);
    let value: unknown;
    if (type === 'string') value = (await c.getBuffer(k))!.toString('base64');
    else if (type === 'list') value = await c.lrange(k, 0, -1);
    else if (type === 'hash') value = Object.entries(await c.hgetall(k)).sort();
    else if (type === 'set') value = (await c.smembers(k)).sort();
    else if (type === 'zset') value = await c.zrange(k, 0, -1, 'WITHSCORES');
    else if (type === 'stream') value = await c.xrange(k, '-', '+');
    else value = type;
    h.update(JSON.stringify([k, type, expiry, value]));
  }
  return `${keys.length}:${h.digest('hex').slice(0, 16)}`;
}

export const b = (...args: Array<string | number | Buffer>): Buffer[] =>
  args.map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(String(a))));

/** accept() and the reply as text ("+OK", "-ERR ..."). */
export async function send(cache: CacheService, org: string, region: string, ...args: Array<string | number | Buffer>): Promise<string> {
  const r = await cache.accept(org, region, b(...args));
  if ('connection' in r) return 'connection';
  return r.reply.toString('utf8').replace(/\r\n$/, '');
}

export function rmrf(dir: string): void {
  fs.rmSync(dir, {recursive: true, force: true});
}

/** A cache in a temp folder with one organization and a client per region, opened before the
 *  file's tests and closed after them: the set-up the replay suites share. */
export function useOrgCache(org: string, extra: Partial<CacheConfig> = {}): {cache: CacheService; regions: Regions; dir: string} {
  const ctx = {} as {cache: CacheService; regions: Regions; dir: string};
  beforeAll(async () => {
    ctx.dir = tempDir();
    ctx.cache = await openCache(ctx.dir, extra);
    await ctx.cache.ensureOrg(org);
    ctx.regions = new Regions(ctx.cache, org);
  });
  afterAll(async () => {
    ctx.regions?.close();
    await ctx.cache?.close();
    if (ctx.dir) rmrf(ctx.dir);
  });
  return ctx;
}

/** Resolves when every started region of `org` in `cache` has applied up to `seq` (entries
 *  appended by another process reach this one by NOTIFY or by the appliers' poll). */
export async function appliedUpTo(cache: CacheService, org: string, seq: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const s = await cache.status(org);
    const mine = s.regions.filter((r) => r.state !== 'idle');
    if (mine.length > 0 && mine.every((r) => r.appliedSeq >= seq)) return;
    if (Date.now() > deadline) throw new Error(`not applied up to ${seq}: ${JSON.stringify(mine)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
