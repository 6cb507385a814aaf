// Starting, stopping and inspecting the local redfly server (control plane + its redis-server
// processes) from the CLI. The CLI never imports server code: the server is a child process,
// dist/control/main.js, found relative to this file, and everything else goes through files
// under $REDFLY_HOME (server.json, local-credentials.json, pidfiles) and GET /healthz.
import {spawn} from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import {isServerPid as isRedflyServerPid, redisServersUnder, statePaths} from '../lib/home';
import {pidAlive, terminate, waitGone} from '../lib/pids';
import type {GatewayWorkerInfo} from '../gateway/types';

export const DEFAULT_PORT = 4780;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

export interface LocalCredentials {
  apiUrl: string;
  token: string;
  /** The CA of an https API (the server's own, under $REDFLY_HOME/tls). */
  caFile?: string;
}

export interface ServerInfo {
  pid: number;
  apiUrl: string;
  /** Where other machines reach the API (--public-host). */
  publicApiUrl?: string;
  caFile?: string;
  port: number;
  startedAt: string;
}

export interface LocalServerStatus {
  running: boolean;
  /** /healthz answered 200: the server serves requests (its databases may still be coming back:
   *  their status says so). */
  healthy: boolean;
  pid?: number;
  apiUrl?: string;
  publicApiUrl?: string;
  caFile?: string;
  port?: number;
  startedAt?: string;
  home: string;
}

export interface StartResult {
  apiUrl: string;
  pid: number;
  alreadyRunning: boolean;
  /** foreground only: settles with the server's exit code */
  exited?: Promise<number>;
}

export interface StopResult {
  wasRunning: boolean;
  pid?: number;
  /** redis-server processes found through pidfiles and stopped because their server was gone */
  orphansStopped: number;
}

export class LocalServerError extends Error {
  constructor(
    message: string,
    readonly code: 'port_in_use' | 'start_failed' | 'start_timeout' | 'stop_failed',
  ) {
    super(message);
    this.name = 'LocalServerError';
  }
}

export {redflyHome, statePaths} from '../lib/home';

export function readLocalCredentials(home: string): LocalCredentials | undefined {
  const v = readJson<LocalCredentials>(statePaths(home).localCredentials);
  return v && typeof v.apiUrl === 'string' && typeof v.token === 'string' ? v : undefined;
}

export function readServerInfo(home: string): ServerInfo | undefined {
  const v = readJson<ServerInfo>(statePaths(home).serverJson);
  return v && Number.isInteger(v.pid) && typeof v.apiUrl === 'string' ? v : undefined;
}

export async function localServerStatus(home: string): Promise<LocalServerStatus> {
  const info = readServerInfo(home);
  // server.json outlives a crashed server; its pid may since belong to another program
  if (!info || !isServerPid(info.pid)) return {running: false, healthy: false, home};
  return {running: true, healthy: (await healthz(info.apiUrl, info.caFile)) === 200, ...info, home};
}

/** The gateway's worker processes of a running server (`server start --gateway-workers N`, N > 1),
 *  as it last wrote them (at most a second old); null when its gateway runs in its own process. */
export function readGatewayWorkers(home: string): GatewayWorkerInfo[] | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(statePaths(home).gatewayWorkersJson, 'utf8')) as {workers?: GatewayWorkerInfo[]};
    return Array.isArray(parsed.workers) ? parsed.workers : null;
  } catch {
    return null;
  }
}

export async function startLocalServer(options: {
  home: string;
  port?: number;
  foreground?: boolean;
  /** Round trips between regions delayed by their distance (the gateway's --simulate-latency). */
  simulateLatency?: boolean;
  /** The server's --gateway-workers (unset: the server's default, or REDFLY_GATEWAY_WORKERS). */
  gatewayWorkers?: number;
  /** The server's --listen, --public-host, --tls, --tls-cert, --tls-key, --tls-ca. */
  serving?: ServingArgs;
  /** The server's environment (default: this process's), e.g. REDFLY_DATABASE_URL. */
  env?: NodeJS.ProcessEnv;
  /** A node of several hosts (needs REDFLY_DATABASE_URL): its --role and --region. */
  role?: {role: string; region?: string};
}): Promise<StartResult> {
  const home = path.resolve(options.home);
  const port = options.port ?? DEFAULT_PORT;
  const current = await localServerStatus(home);
  if (current.running && current.apiUrl && current.pid) {
    await waitHealthy(current.apiUrl, current.caFile, () => pidAlive(current.pid!));
    return {apiUrl: current.apiUrl, pid: current.pid, alreadyRunning: true};
  }
  const listenHost = options.serving?.listen ?? '127.0.0.1';
  if (port !== 0 && !(await portFree(port, listenHost))) {
    throw new LocalServerError(
      `port ${port} on ${listenHost} is already in use by another program`,
      'port_in_use',
    );
  }
  fs.mkdirSync(home, {recursive: true, mode: 0o700});
  const logFile = statePaths(home).serverLog;
  const logStart = fileSize(logFile);
  const args = [serverEntry(), '--port', String(port), '--home', home, ...(options.simulateLatency ? ['--simulate-latency'] : []),
    ...(options.gatewayWorkers !== undefined ? ['--gateway-workers', String(options.gatewayWorkers)] : []),
    ...servingArgs(options.serving),
    ...(options.role ? ['--role', options.role.role, ...(options.role.region ? ['--region', options.role.region] : [])] : [])];

  if (options.foreground) {
    const child = spawn(process.execPath, args, {stdio: 'inherit', env: options.env ?? process.env});
    const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
    // Ctrl-C reaches the child through the terminal's process group: we only wait for it to
    // finish stopping its processes. SIGTERM to us is passed on.
    const forward = () => child.kill('SIGTERM');
    const waitForChild = () => undefined;
    process.on('SIGTERM', forward);
    process.on('SIGINT', waitForChild);
    void exited.then(() => {
      process.off('SIGTERM', forward);
      process.off('SIGINT', waitForChild);
    });
    const info = await waitForServerInfo(home, child.pid!, exited, logFile, logStart);
    return {apiUrl: info.apiUrl, pid: child.pid!, alreadyRunning: false, exited};
  }

  const out = fs.openSync(logFile, 'a', 0o600);
  const child = spawn(process.execPath, args, {detached: true, stdio: ['ignore', out, out], env: options.env ?? process.env});
  fs.closeSync(out);
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  child.unref();
  try {
    const info = await waitForServerInfo(home, child.pid!, exited, logFile, logStart);
    return {apiUrl: info.apiUrl, pid: child.pid!, alreadyRunning: false};
  } catch (err) {
    // Lost a race with another `start` for the same home: use the server that won.
    const now = await localServerStatus(home);
    if (now.running && now.healthy && now.apiUrl && now.pid) return {apiUrl: now.apiUrl, pid: now.pid, alreadyRunning: true};
    if (pidAlive(child.pid!)) child.kill('SIGTERM');
    throw err;
  }
}

export async function stopLocalServer(home: string): Promise<StopResult> {
  home = path.resolve(home);
  const info = readServerInfo(home);
  let wasRunning = false;
  if (info && isServerPid(info.pid)) {
    wasRunning = true;
    process.kill(info.pid, 'SIGTERM');
    // The server stops its redis-server processes before it exits.
    if (!(await waitGone(info.pid, STOP_TIMEOUT_MS))) {
      process.kill(info.pid, 'SIGKILL');
      if (!(await waitGone(info.pid, 5000))) {
        // Never report "stopped" for a process that is still there.
        throw new LocalServerError(`the server (pid ${info.pid}) did not exit, even after SIGKILL`, 'stop_failed');
      }
    }
  }
  fs.rmSync(statePaths(home).serverJson, {force: true});
  // Whatever the server could not stop (it was killed, it crashed) is found through pidfiles.
  const orphansStopped = await stopOrphanRedis(home);
  return {wasRunning, pid: info?.pid, orphansStopped};
}

// ---- internals

function serverEntry(): string {
  const besideUs = path.resolve(__dirname, '..', 'control', 'main.js');
  if (fs.existsSync(besideUs)) return besideUs;
  // running from src/ (tests under ts-jest): the built server
  const built = path.resolve(__dirname, '..', '..', 'dist', 'control', 'main.js');
  if (fs.existsSync(built)) return built;
  throw new LocalServerError(`the server entry ${besideUs} is missing; run npm run build`, 'start_failed');
}

async function waitForServerInfo(
  home: string,
  pid: number,
  exited: Promise<number>,
  logFile: string,
  logStart: number,
): Promise<ServerInfo> {
  let exitCode: number | null = null;
  void exited.then((c) => (exitCode = c));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exitCode !== null) {
      const said = serverMessages(logFile, logStart);
      throw new LocalServerError(said || `the server exited with code ${exitCode}; see ${logFile}`, 'start_failed');
    }
    const info = readServerInfo(home);
    if (info && info.pid === pid && (await healthz(info.apiUrl, info.caFile)) === 200) return info;
    await sleep(50);
  }
  throw new LocalServerError(`the server did not answer within ${START_TIMEOUT_MS / 1000}s; see ${logFile}`, 'start_timeout');
}

async function waitHealthy(apiUrl: string, caFile: string | undefined, stillAlive: () => boolean): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && stillAlive()) {
    if ((await healthz(apiUrl, caFile)) === 200) return;
    await sleep(50);
  }
}

/** The lines the server printed itself (not its JSON request log) since `from`. */
function serverMessages(logFile: string, from: number): string {
  try {
    const fd = fs.openSync(logFile, 'r');
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.max(0, size - from));
    fs.readSync(fd, buf, 0, buf.length, from);
    fs.closeSync(fd);
    return buf
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('{'))
      .join('\n')
      .trim();
  } catch {
    return '';
  }
}

async function healthz(apiUrl: string, caFile?: string): Promise<number | null> {
  if (apiUrl.startsWith('https:')) return httpsHealthz(apiUrl, caFile);
  try {
    const res = await fetch(`${apiUrl.replace(/\/+$/, '')}/healthz`, {signal: AbortSignal.timeout(2000)});
    await res.arrayBuffer();
    return res.status;
  } catch {
    return null;
  }
}

/** GET /healthz of an https API, verified with the server's own CA when it has one. */
async function httpsHealthz(apiUrl: string, caFile?: string): Promise<number | null> {
  const https = await import('node:https');
  let ca: Buffer | undefined;
  try {
    ca = caFile ? fs.readFileSync(caFile) : undefined;
  } catch {
    return null;
  }
  return new Promise((resolve) => {
    const req = https.get(`${apiUrl.replace(/\/+$/, '')}/healthz`, {ca, timeout: 2000}, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

/** What `server start` passes on to the server about where and how it listens. */
export interface ServingArgs {
  listen?: string;
  publicHost?: string;
  /** undefined = the server's default (on unless --listen is loopback). */
  tls?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

function servingArgs(s: ServingArgs | undefined): string[] {
  if (!s) return [];
  const out: string[] = [];
  if (s.listen !== undefined) out.push('--listen', s.listen);
  if (s.publicHost !== undefined) out.push('--public-host', s.publicHost);
  if (s.tls !== undefined) out.push('--tls', s.tls ? 'on' : 'off');
  if (s.tlsCert !== undefined) out.push('--tls-cert', path.resolve(s.tlsCert));
  if (s.tlsKey !== undefined) out.push('--tls-key', path.resolve(s.tlsKey));
  if (s.tlsCa !== undefined) out.push('--tls-ca', path.resolve(s.tlsCa));
  return out;
}

function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({port, host, exclusive: true}, () => srv.close(() => resolve(true)));
  });
}

/** See lib/home.ts; a property of this module so that tests can stand in for it. */
export const isServerPid = (pid: number): boolean => isRedflyServerPid(pid);

/** The redis-servers a dead server left behind (databases and cache backends). */
async function stopOrphanRedis(home: string): Promise<number> {
  const victims = redisServersUnder(home);
  await Promise.all(victims.map((pid) => terminate(pid, {timeoutMs: 5000})));
  return victims.length;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function readJson<T>(file: string): T | undefined {
  const text = readText(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
