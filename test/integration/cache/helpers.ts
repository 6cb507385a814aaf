// Shared set-up for the regional-cache tests: a CacheService over real redis-server processes
// in a temp folder, direct connections to each region's backend (what the gateway forwards
// database 0 to), and a digest of a region's data.
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

  /** DEBUG DIGEST covers every key, value and expiry of the process (and the replay cursor,
   *  which is equal in every region once they have all caught up). */
  digests(): Promise<Record<string, string>> {
    return this.each(async (c) => String(await c.call('DEBUG', 'DIGEST')));
  }

  close(): void {
    for (const c of this.clients.values()) c.disconnect();
    this.clients.clear();
  }
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
