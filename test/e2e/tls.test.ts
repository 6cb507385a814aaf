// The platform served on a second loopback address with TLS on, as an application on another
// machine meets it: `redfly server start --listen 127.0.0.2 --tls`, a database created with the
// built CLI, and four real clients that connect to its rediss:// URL with certificate
// verification on, trusting only the CA that `redfly redis status --json` names.
import {execFile, execFileSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import Redis from 'ioredis';
import {createClient} from 'redis';
import {assertBuilt, cliEnv, ok, redfly, tempHome} from './helpers';

jest.setTimeout(120_000);

let home: string;
let env: NodeJS.ProcessEnv;
let url: string;
let ca: string;
let caFile: string;

beforeAll(async () => {
  assertBuilt();
  home = tempHome('redfly-tls-');
  env = cliEnv(home);
  const started = ok(await redfly(['server', 'start', '--port', '0', '--listen', '127.0.0.2', '--tls', '--json'], {env}));
  expect(JSON.parse(started.stdout).apiUrl).toMatch(/^https:\/\/127\.0\.0\.2:\d+$/);
  const made = ok(await redfly(['redis', 'create', '--org', 'personal', '--name', 'over-tls', '--region', 'mad', '--no-replicas',
    '--plan', 'free', '--disable-eviction', '--json'], {env}));
  url = JSON.parse(made.stdout).privateUrl;
  const status = JSON.parse(ok(await redfly(['redis', 'status', 'over-tls', '--json'], {env})).stdout);
  caFile = status.tls.caFile;
  ca = status.tls.caPem;
});

afterAll(async () => {
  if (home) {
    await redfly(['server', 'stop'], {env});
    fs.rmSync(home, {recursive: true, force: true});
  }
});

it('hands out rediss:// URLs on the listen address and the CA that verifies them', () => {
  expect(url).toMatch(/^rediss:\/\/default:[^@]+@127\.0\.0\.2:\d+$/);
  expect(fs.readFileSync(caFile, 'utf8')).toBe(ca);
  expect(ca).toContain('BEGIN CERTIFICATE');
});

it('redis-cli --tls --cacert', async () => {
  const cli = (args: string[]) => new Promise<string>((resolve) =>
    execFile('redis-cli', ['--tls', '--cacert', caFile, '-u', url, '--no-auth-warning', ...args], {timeout: 20_000},
      (_e, out, err) => resolve(String(out) + String(err))));
  expect((await cli(['SET', 'from', 'redis-cli'])).trim()).toBe('OK');
  expect((await cli(['GET', 'from'])).trim()).toBe('redis-cli');
});

it('ioredis with the CA', async () => {
  const r = new Redis(url, {tls: {ca}, maxRetriesPerRequest: 0, retryStrategy: () => null});
  try {
    expect(await r.set('io', 'redis')).toBe('OK');
    expect(await r.get('from')).toBe('redis-cli');
  } finally {
    r.disconnect();
  }
});

it('node-redis with the CA', async () => {
  const c = createClient({url, socket: {tls: true, ca, reconnectStrategy: false}});
  c.on('error', () => {});
  await c.connect();
  try {
    expect(await c.get('io')).toBe('redis');
  } finally {
    await c.disconnect();
  }
});

it('redis-py with the CA (python3-redis, which .ci/run installs)', () => {
  const python = ['python3', '/usr/bin/python3'].find((p) => {
    try {
      execFileSync(p, ['-c', 'import redis'], {stdio: 'ignore'});
      return true;
    } catch {
      return false;
    }
  });
  if (python === undefined) throw new Error('redis-py is missing: apt-get install -y python3-redis');
  const out = execFileSync(python, ['-c',
    'import sys, redis\n' +
    'r = redis.Redis.from_url(sys.argv[1], ssl_ca_certs=sys.argv[2], ssl_cert_reqs="required")\n' +
    'r.set("py", "redis-py")\n' +
    'print(r.get("io").decode())',
  url, caFile], {timeout: 20_000}).toString();
  expect(out.trim()).toBe('redis');
});

it('refuses a client that does not trust the CA, and plaintext', async () => {
  const {hostname, port: tlsPort} = new URL(url);
  const verifyError = await new Promise<string>((resolve) => {
    const s = tls.connect({host: hostname, port: Number(tlsPort)});
    s.on('secureConnect', () => {
      s.destroy();
      resolve('verified');
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
  expect(verifyError).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  const {port} = new URL(url);
  const plain = await new Promise<string>((resolve) => {
    const s = net.connect(Number(port), '127.0.0.2');
    let got = '';
    s.on('data', (d) => (got += d));
    s.on('error', () => resolve(got));
    s.on('close', () => resolve(got));
    s.write('PING\r\n');
    setTimeout(() => s.destroy(), 3000).unref();
  });
  expect(plain).not.toContain('PONG');
});

it('listens on the --listen address only', async () => {
  const {port} = new URL(url);
  const err = await new Promise<string>((resolve) => {
    const s = net.connect(Number(port), '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
  expect(err).toBe('ECONNREFUSED');
});

it('server status says TLS is on and names the CA; cache url/env name it on stderr, stdout stays the URL', async () => {
  const status = JSON.parse(ok(await redfly(['server', 'status', '--json'], {env})).stdout);
  expect(status).toMatchObject({running: true, tls: true, caFile});
  expect(ok(await redfly(['server', 'status'], {env})).stdout).toContain(`TLS: on (https, rediss://), CA ${caFile}`);

  const cacheUrl = ok(await redfly(['redis', 'cache', 'url', '--org', 'personal', '--region', 'mad'], {env}));
  expect(cacheUrl.stdout).toMatch(/^rediss:\/\/default:[^@]+@127\.0\.0\.2:\d+\n$/);
  expect(cacheUrl.stderr).toContain(`redis-cli --tls --cacert ${caFile}`);
  const cacheEnv = ok(await redfly(['redis', 'cache', 'env', '--org', 'personal', '--region', 'mad'], {env}));
  expect(cacheEnv.stdout.trimEnd().split('\n').every((l) => /^[A-Z_]+=rediss:\/\//.test(l))).toBe(true);
  expect(cacheEnv.stderr).toContain(caFile);
  const asJson = JSON.parse(ok(await redfly(['redis', 'cache', 'url', '--org', 'personal', '--region', 'mad', '--json'], {env})).stdout);
  expect(asJson.tls).toEqual({caFile, caPem: ca});
  // the cache's rediss:// URL verifies with that CA
  const r = new Redis(asJson.url, {tls: {ca}, maxRetriesPerRequest: 0, retryStrategy: () => null});
  try {
    expect(await r.ping()).toBe('PONG');
  } finally {
    r.disconnect();
  }
});
