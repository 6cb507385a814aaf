// A multi-host deployment on one machine for tests: network namespaces as hosts
// (test/helpers/netns.ts), PostgreSQL on the bridge (test/helpers/postgres.ts), and real server
// processes (node dist/control/main.js --role ...) inside the namespaces, each with its own
// REDFLY_HOME. The hosts share what an operator copies to every host before its first start:
// the internal secret and redfly's CA (made by the first node, the control node).
import {ChildProcess} from 'node:child_process';
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, closeSync} from 'node:fs';
import * as https from 'node:https';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {createNetwork, HostSpec, Network} from '../helpers/netns';
import {startPostgres, TestPostgres} from '../helpers/postgres';
import Redis from 'ioredis';
import {RedflyClient} from '../../src/api/client';

export const MAIN = resolve(__dirname, '../../dist/control/main.js');
export const CLI = resolve(__dirname, '../../bin/run.js');

export interface Node {
  name: string;
  role: 'control' | 'region';
  region: string | null;
  home: string;
  address: string;
  apiUrl: string;
  child: ChildProcess | null;
}

export interface Cluster {
  net: Network;
  pg: TestPostgres;
  nodes: Record<string, Node>;
  /** A control node's API (default the first), with the first control node's local token. */
  api(node?: string): RedflyClient;
  caPem(): string;
  /** An ioredis client of a database URL (rediss://, trusting the nodes' CA, no retries, errors
   *  swallowed: a test reads the failed command instead); closed by teardown(). `readyCheck`
   *  false skips ioredis's connect-time INFO (which the primary answers). */
  redis(url: string, readyCheck?: boolean): Redis;
  /** Starts (or starts again) the node's server and waits until /healthz answers 200; `env`
   *  adds to its environment. */
  start(name: string, env?: NodeJS.ProcessEnv): Promise<void>;
  /** SIGKILL to every process of the host (server and redis-servers): a crashed machine. */
  kill(name: string): void;
  teardown(): Promise<void>;
}

const API_PORT = 4780;

/** Hosts: `control` (and `control2`... when `controls` > 1, no region) and one region host per
 *  entry of `regions`. */
export async function createCluster(regions: string[], controls = 1): Promise<Cluster> {
  const specs: HostSpec[] = [
    ...Array.from({length: controls}, (_, i) => ({name: i === 0 ? 'control' : `control${i + 1}`, region: null})),
    ...regions.map((r) => ({name: r, region: r})),
  ];
  const net = createNetwork(specs);
  const root = mkdtempSync(join(tmpdir(), 'redfly-multihost-'));
  let pg: TestPostgres | null = null;
  try {
    pg = await startPostgres({listen: net.bridgeAddress});
  } catch (err) {
    net.teardown();
    rmSync(root, {recursive: true, force: true});
    throw err;
  }
  const nodes: Record<string, Node> = {};
  for (const s of specs) {
    const h = net.hosts[s.name];
    const home = join(root, s.name);
    mkdirSync(home, {recursive: true, mode: 0o700});
    nodes[s.name] = {
      name: s.name,
      role: s.region ? 'region' : 'control',
      region: s.region,
      home,
      address: h.address,
      apiUrl: `https://${h.address}:${API_PORT}`,
      child: null,
    };
  }
  const control = nodes.control;
  const clients: Redis[] = [];

  const cluster: Cluster = {
    net,
    pg,
    nodes,
    api(node = 'control') {
      const creds = JSON.parse(readFileSync(join(control.home, 'local-credentials.json'), 'utf8')) as {token: string};
      return new RedflyClient({apiUrl: nodes[node].apiUrl, token: creds.token, caFile: join(control.home, 'tls', 'ca.pem')});
    },
    caPem() {
      return readFileSync(join(control.home, 'tls', 'ca.pem'), 'utf8');
    },
    redis(url, readyCheck = true) {
      const r = new Redis(url, {tls: {ca: cluster.caPem(), checkServerIdentity: () => undefined}, maxRetriesPerRequest: 1,
        retryStrategy: () => null, enableReadyCheck: readyCheck});
      r.on('error', () => undefined);
      clients.push(r);
      return r;
    },
    async start(name, env = {}) {
      const n = nodes[name];
      if (n !== control && !existsSync(join(n.home, 'internal-secret'))) {
        // What the operator copies from the first host: the platform's secret and CA.
        mkdirSync(join(n.home, 'tls'), {recursive: true, mode: 0o700});
        for (const f of ['internal-secret', 'tls/ca.pem', 'tls/ca-key.pem']) copyFileSync(join(control.home, f), join(n.home, f));
      }
      const log = openSync(join(n.home, 'stdout.log'), 'a');
      const args = [MAIN, '--port', String(API_PORT), '--home', n.home, '--listen', n.address, '--role', n.role,
        ...(n.region ? ['--region', n.region] : [])];
      n.child = net.spawn(name, process.execPath, args, {
        stdio: ['ignore', log, log],
        env: {...process.env, REDFLY_HOME: n.home, REDFLY_DATABASE_URL: pg!.url, REDFLY_LOG_LEVEL: 'info', ...env},
      });
      closeSync(log);
      const exited = new Promise<number | null>((r) => n.child!.once('exit', (code) => r(code)));
      const deadline = Date.now() + 30_000;
      for (;;) {
        const ok = await Promise.race([healthz(n), exited.then(() => 'exited' as const)]);
        if (ok === 200) return;
        if (ok === 'exited' || Date.now() > deadline) {
          const out = readFileSync(join(n.home, 'stdout.log'), 'utf8').slice(-2000);
          throw new Error(`node ${name} did not become healthy (${ok}): ${out}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    kill(name) {
      net.killHost(name);
      nodes[name].child = null;
    },
    async teardown() {
      for (const r of clients.splice(0)) r.disconnect();
      net.teardown();
      await pg?.stop();
      rmSync(root, {recursive: true, force: true});
    },
  };
  return cluster;
}

function healthz(n: Node): Promise<number> {
  const caFile = join(n.home, 'tls', 'ca.pem');
  if (!existsSync(caFile)) return Promise.resolve(0);
  return new Promise((resolve) => {
    const req = https.get(`${n.apiUrl}/healthz`, {ca: readFileSync(caFile), timeout: 1000}, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
  });
}

/** Polls `fn` until it returns a value other than undefined (or throws the last error). */
export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
