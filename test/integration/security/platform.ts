// The built server (dist/control/main.js) in a temp REDFLY_HOME, as an attacker meets it: its
// RSS and descriptors are read from /proc, databases are made through the API.
import {ChildProcess, spawn} from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = process.env.REDFLY_ROOT ?? path.resolve(__dirname, '../../..');
export const MAIN = path.join(ROOT, 'dist', 'control', 'main.js');

export interface Platform {
  home: string;
  proc: ChildProcess;
  pid: number;
  apiUrl: string;
  token: string;
  caFile?: string;
  stop(): Promise<void>;
}

export async function startPlatform(args: string[] = [], env: Record<string, string> = {}, homeDir?: string): Promise<Platform> {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const home = homeDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-sec-'));
  const out = fs.openSync(path.join(home, 'stdout.log'), 'a');
  const proc = spawn(process.execPath, [MAIN, '--port', '0', '--home', home, ...args], {
    stdio: ['ignore', out, out],
    env: {...process.env, REDFLY_LOG_LEVEL: 'info', ...env},
  });
  fs.closeSync(out);
  const deadline = Date.now() + 30_000;
  let info: {pid: number; apiUrl: string; caFile?: string} | undefined;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`server exited: ${fs.readFileSync(path.join(home, 'stdout.log'), 'utf8')}`);
    try {
      info = JSON.parse(fs.readFileSync(path.join(home, 'server.json'), 'utf8'));
      const ca = info!.caFile ? fs.readFileSync(info!.caFile) : undefined;
      if ((await request(info!.apiUrl, 'GET', '/healthz', undefined, undefined, ca)).status === 200) break;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  if (!info) throw new Error('server did not start');
  const creds = JSON.parse(fs.readFileSync(path.join(home, 'local-credentials.json'), 'utf8'));
  const stop = async () => {
    if (proc.exitCode === null) {
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([gone, sleep(15_000)]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
    fs.rmSync(home, {recursive: true, force: true});
  };
  return {home, proc, pid: proc.pid!, apiUrl: info.apiUrl, token: creds.token, caFile: info.caFile, stop};
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** One HTTP(S) request with Node's own client (https with the given CA, verification on). */
export function request(apiUrl: string, method: string, p: string, body?: unknown, token?: string, ca?: Buffer):
  Promise<{status: number; body: any; headers: Record<string, string | string[] | undefined>}> {
  const url = new URL(p, apiUrl);
  const mod = url.protocol === 'https:' ? https : require('node:http');
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = mod.request(url, {
      method,
      ca,
      headers: {
        ...(token ? {authorization: `Bearer ${token}`} : {}),
        ...(data ? {'content-type': 'application/json', 'content-length': data.length} : {}),
      },
      timeout: 10_000,
    }, (res: any) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c));
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({status: res.statusCode, body: parsed, headers: res.headers});
      });
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(data);
  });
}

export async function api(p: Platform, method: string, route: string, body?: unknown) {
  return request(p.apiUrl, method, route, body, p.token, p.caFile ? fs.readFileSync(p.caFile) : undefined);
}

/** A ready database; resolves its record (privateUrl, endpoints). */
export async function createDatabase(p: Platform, fields: Record<string, unknown>): Promise<any> {
  const made = await api(p, 'POST', '/v1/databases', {org: 'personal', primaryRegion: 'mad', plan: 'free', ...fields});
  if (made.status !== 201) throw new Error(`create: ${made.status} ${JSON.stringify(made.body)}`);
  for (let i = 0; i < 200; i++) {
    const got = await api(p, 'GET', `/v1/databases/${made.body.id}`);
    if (got.body.status === 'ready') return got.body;
    await sleep(100);
  }
  throw new Error('database not ready');
}

/** Resident memory of a process, bytes. */
export function rss(pid: number): number {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m![1]) * 1024;
}

export function openFds(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** The pid of the primary redis-server of a database (its pidfile under the home). */
export function primaryPid(p: Platform, port: number): number {
  for (const f of walk(p.home)) {
    if (!f.endsWith('redis.pid')) continue;
    const conf = path.join(path.dirname(f), 'redis.conf');
    if (fs.existsSync(conf) && fs.readFileSync(conf, 'utf8').includes(`\nport ${port}\n`)) return Number(fs.readFileSync(f, 'utf8').trim());
  }
  throw new Error(`no redis-server on ${port}`);
}

export function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, {withFileTypes: true})) {
    const f = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(f));
    else out.push(f);
  }
  return out;
}
