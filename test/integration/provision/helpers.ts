import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import type {DesiredDatabase} from '../../../src/provision/types';

export const SECRET = 'internal-secret-for-tests';

export function tempHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-provision-'));
}

export function desired(id: string, readRegions: string[], overrides: Partial<DesiredDatabase> = {}): DesiredDatabase {
  return {
    id,
    password: 'db-password-1',
    maxmemoryBytes: 100 * 1024 * 1024,
    eviction: false,
    processes: [
      {region: 'mad', role: 'primary', port: 0},
      ...readRegions.map((region) => ({region, role: 'replica' as const, port: 0})),
    ],
    ...overrides,
  };
}

const clients: Redis[] = [];

/** An ioredis client that fails fast instead of retrying, closed by closeClients(). */
export function client(port: number, password: string, username = 'default'): Redis {
  const c = new Redis({
    host: '127.0.0.1',
    port,
    username,
    password,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    disconnectTimeout: 50,
  });
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

/** Connects and authenticates; rejects with the server's own error (WRONGPASS ...) when refused. */
export async function connected(port: number, password: string, username = 'default'): Promise<Redis> {
  const c = client(port, password, username);
  let firstError: Error | null = null;
  c.once('error', (err) => (firstError ??= err));
  try {
    await c.connect();
  } catch (err) {
    throw firstError ?? err;
  }
  return c;
}

/** Connected as the internal user, the only way into a redis-server (the gateway's way). */
export function internal(port: number): Promise<Redis> {
  return connected(port, SECRET, 'redfly');
}

export function closeClients(): void {
  for (const c of clients.splice(0)) c.disconnect();
}

export async function eventually<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Pids of redis-server processes whose working folder is under `home`. */
export function redisPidsUnder(home: string): number[] {
  const real = fs.realpathSync(home);
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('redis-server')) continue;
      if (fs.realpathSync(`/proc/${entry}/cwd`).startsWith(real + path.sep)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Last resort for afterAll after a failed test: no redis-server of this home may survive. */
export function killEverythingUnder(home: string): void {
  for (const pid of redisPidsUnder(home)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
