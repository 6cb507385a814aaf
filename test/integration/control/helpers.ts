// A real redfly server for tests: `node dist/control/main.js` started the way `redfly server
// start` does it, in a temp home on a port chosen by the kernel, plus small helpers to watch its
// redis-server processes through /proc.
import {existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import Redis from 'ioredis';
import {readLocalCredentials, startLocalServer, stopLocalServer} from '../../../src/cli/local-server';

export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface TestServer {
  home: string;
  apiUrl: string;
  token: string;
  pid: number;
}

export function ensureBuilt(): void {
  if (!existsSync(join(__dirname, '..', '..', '..', 'dist', 'control', 'main.js'))) {
    throw new Error('dist/control/main.js is missing: run `npm run build` first (npm test does)');
  }
}

export function tempHome(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `redfly-${prefix}-`));
}

/** Starts the server and, unless `{settled: false}`, waits until every database it had is back
 *  (the API answers before that: /healthz names the databases still starting). `env`: added to
 *  this process's environment for the server (REDFLY_DATABASE_URL...). */
export async function startServer(
  home: string,
  {settled = true, env = {}}: {settled?: boolean; env?: NodeJS.ProcessEnv} = {},
): Promise<TestServer> {
  ensureBuilt();
  const {apiUrl, pid} = await startLocalServer({home, port: 0, env: {...process.env, ...env}});
  const creds = readLocalCredentials(home)!;
  if (settled) {
    await eventually('every database back after start', async () =>
      ((await (await fetch(`${apiUrl}/healthz`)).json()) as {databasesStarting?: number}).databasesStarting ? undefined : true,
    );
  }
  return {home, apiUrl, token: creds.token, pid};
}

export async function cleanup(home: string): Promise<void> {
  await stopLocalServer(home).catch(() => undefined);
  for (const pid of redisPidsUnder(home)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(home, {recursive: true, force: true});
}

export async function api(
  s: TestServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{status: number; body: Json}> {
  const res = await fetch(s.apiUrl + path, {
    method,
    headers: {authorization: `Bearer ${s.token}`, ...(body !== undefined ? {'content-type': 'application/json'} : {}), ...headers},
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return {status: res.status, body: text ? JSON.parse(text) : null};
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until check returns a value (not undefined), or fails after timeoutMs with what it saw. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(50);
  }
}

export async function waitForStatus(s: TestServer, idOrName: string, status: string): Promise<Json> {
  return eventually(`${idOrName} to be ${status}`, async () => {
    const r = await api(s, 'GET', `/v1/databases/${idOrName}`);
    if (r.body?.status === 'failed' && status !== 'failed') throw new Error(`failed: ${r.body.statusMessage}`);
    return r.body?.status === status ? r.body : undefined;
  });
}

export async function waitGone(s: TestServer, id: string): Promise<void> {
  await eventually(`${id} to be gone`, async () => ((await api(s, 'GET', `/v1/databases/${id}`)).status === 404 ? true : undefined));
}

/** Connections made by a test, closed in afterEach/afterAll. */
export class Clients {
  private readonly all: Redis[] = [];
  open(url: string, opts: {password?: string; username?: string} = {}): Redis {
    const c = new Redis(url, {maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: false, ...opts});
    c.on('error', () => undefined);
    this.all.push(c);
    return c;
  }
  port(port: number, password: string, username = 'default'): Redis {
    return this.open(`redis://127.0.0.1:${port}`, {username, password});
  }
  async closeAll(): Promise<void> {
    await Promise.all(
      this.all.splice(0).map(async (c) => {
        if (c.status === 'ready') await Promise.race([c.quit().catch(() => undefined), sleep(500)]);
        c.disconnect();
      }),
    );
  }
}

export function portOf(db: Json, region: string): number {
  return db.processes.find((p: Json) => p.region === region).port;
}

/** The gateway endpoint of a database in one region (reads served there, writes forwarded). */
export function endpointOf(db: Json, region: string): string {
  const url = db.endpoints?.[region];
  if (!url) throw new Error(`database ${db.name} has no endpoint in ${region}`);
  return url;
}

export function passwordOf(db: Json): string {
  return decodeURIComponent(new URL(db.privateUrl).password);
}

export function internalSecret(home: string): string {
  return readFileSync(join(home, 'internal-secret'), 'utf8').trim();
}

/** Live redis-server processes whose working folder is under home. */
export function redisPidsUnder(home: string): number[] {
  const root = existsSync(home) ? realpathSync(home) : home;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmd.includes('redis-server')) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat[stat.lastIndexOf(')') + 2] === 'Z') continue;
      if (realpathSync(`/proc/${entry}/cwd`).startsWith(root + '/')) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

export function pidOnPort(home: string, port: number): number | undefined {
  return redisPidsUnder(home).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').length > 0 && portsOf(pid).includes(port);
    } catch {
      return false;
    }
  });
}

// The listening ports of a process, from /proc/net/tcp and its socket inodes.
function portsOf(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const link = require('node:fs').readlinkSync(`/proc/${pid}/fd/${fd}`) as string;
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && f[3] === '0A' && inodes.has(f[9])) ports.push(parseInt(f[1].split(':')[1], 16));
  }
  return ports;
}
