// `redfly server start|status|stop` as a user runs them: the built bin/run.js with REDFLY_HOME
// pointing at a temp folder.
import {execFile} from 'node:child_process';
import {existsSync, statSync, writeFileSync} from 'node:fs';
import {createServer, Server} from 'node:net';
import {join} from 'node:path';
import {api, cleanup, Json, redisPidsUnder, tempHome, waitForStatus} from './helpers';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'run.js');
const home = tempHome('commands');
let blocker: Server | undefined;

function redfly(args: string[], env: Record<string, string> = {}): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], {env: {...process.env, REDFLY_HOME: home, ...env}, timeout: 60_000}, (err, stdout, stderr) =>
      resolve({code: err ? ((err as {code?: number}).code ?? 1) : 0, stdout, stderr}),
    );
  });
}

/** Alive and not a zombie (an exited child of a parent that does not reap is not running). */
function processRuns(pid: number): boolean {
  try {
    const stat = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8') as string;
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

afterAll(async () => {
  blocker?.close();
  await cleanup(home);
});

test('start, status and stop with --json', async () => {
  const started = await redfly(['server', 'start', '--port', '0', '--json']);
  expect(started.code).toBe(0);
  const info: Json = JSON.parse(started.stdout);
  expect(info).toMatchObject({home, alreadyRunning: false});
  expect(info.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect((await fetch(`${info.apiUrl}/healthz`)).status).toBe(200);

  const creds = join(home, 'local-credentials.json');
  expect(statSync(creds).mode & 0o777).toBe(0o600);
  expect(statSync(join(home, 'internal-secret')).mode & 0o777).toBe(0o600);
  const s = {home, apiUrl: info.apiUrl, token: require(creds).token, pid: info.pid};
  const created = await api(s, 'POST', '/v1/databases', {org: 'personal', primaryRegion: 'lhr', readRegions: ['iad'], plan: 'free'});
  await waitForStatus(s, created.body.id, 'ready');

  const again = await redfly(['server', 'start', '--port', '0', '--json']);
  expect(JSON.parse(again.stdout)).toMatchObject({apiUrl: info.apiUrl, pid: info.pid, alreadyRunning: true});

  const status = await redfly(['server', 'status', '--json']);
  expect(JSON.parse(status.stdout)).toMatchObject({
    running: true,
    healthy: true,
    apiUrl: info.apiUrl,
    tls: false,
    caFile: null,
    databases: 1,
    processes: {total: 2, running: 2, notRunning: []},
  });
  const human = await redfly(['server', 'status']);
  expect(human.stdout).toContain(info.apiUrl);
  expect(human.stdout).toMatch(/Databases: 1/);
  expect(human.stdout).toMatch(/Database processes: 2 of 2 running/);
  expect(human.stdout).toContain('TLS: off (http, redis://)');

  const stopped = await redfly(['server', 'stop', '--json']);
  expect(JSON.parse(stopped.stdout)).toMatchObject({stopped: true, pid: info.pid});
  // stop returns once the server process is gone (a reaped or zombie pid: /proc says Z or nothing)
  expect(processRuns(info.pid)).toBe(false);
  expect(redisPidsUnder(home)).toEqual([]);
  expect(existsSync(join(home, 'server.json'))).toBe(false);
  const after = await redfly(['server', 'status']);
  expect(after.stdout).toMatch(/not running/);
  // LSB's "program is not running", so that `redfly server status || redfly server start` works
  expect(after.code).toBe(3);
  const afterJson = await redfly(['server', 'status', '--json']);
  expect(afterJson.code).toBe(3);
  expect(JSON.parse(afterJson.stdout)).toMatchObject({running: false});
});

test('autostart on a taken port names REDFLY_SERVER_PORT, the setting that moves it', async () => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const port = (taken.address() as {port: number}).port;
  try {
    const r = await redfly(['redis', 'list'], {REDFLY_SERVER_PORT: String(port), REDFLY_AUTOSTART: '1'});
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`port ${port}`);
    expect(r.stderr).toContain('REDFLY_SERVER_PORT');
    expect(r.stderr).toContain('Code: port_in_use');
  } finally {
    taken.close();
  }
});

test('a taken port is a clear error naming the port', async () => {
  blocker = createServer();
  const port = await new Promise<number>((resolve) => blocker!.listen(0, '127.0.0.1', () => resolve((blocker!.address() as {port: number}).port)));
  const r = await redfly(['server', 'start', '--port', String(port)]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`port ${port}`);
  expect(r.stderr).toMatch(/--port/);
});

test("with --json a taken port is the CLI's one error document, not oclif's error object", async () => {
  const port = (blocker!.address() as {port: number}).port;
  const r = await redfly(['server', 'start', '--port', String(port), '--json']);
  expect(r.code).toBe(1);
  expect(JSON.parse(r.stdout)).toEqual({error: {code: 'port_in_use', message: expect.stringContaining(`port ${port}`)}});
});

test('REDFLY_SERVER_PORT is the port of `server start` when --port is not given', async () => {
  const port = (blocker!.address() as {port: number}).port;
  const r = await redfly(['server', 'start', '--json'], {REDFLY_SERVER_PORT: String(port)});
  expect(r.code).toBe(1);
  expect(JSON.parse(r.stdout).error).toMatchObject({code: 'port_in_use', message: expect.stringContaining(`port ${port}`)});
  expect(existsSync(join(home, 'server.json'))).toBe(false);
});

test('a missing redis-server is a clear error that says how to install it', async () => {
  const r = await redfly(['server', 'start', '--port', '0'], {REDFLY_REDIS_SERVER: join(home, 'no-such-redis-server')});
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/redis-server was not found/);
  expect(r.stderr).toMatch(/apt-get install redis-server/);
  expect(existsSync(join(home, 'server.json'))).toBe(false);
});

test('a stale server.json whose pid now belongs to another program does not block a start', async () => {
  // this test process stands in for "some other program" holding the recorded pid
  writeFileSync(join(home, 'server.json'), JSON.stringify({pid: process.pid, apiUrl: 'http://127.0.0.1:9', port: 9, startedAt: 'x'}));
  expect(JSON.parse((await redfly(['server', 'status', '--json'])).stdout).running).toBe(false);
  const started = await redfly(['server', 'start', '--port', '0', '--json']);
  expect(started.code).toBe(0);
  expect(JSON.parse(started.stdout).pid).not.toBe(process.pid);
  expect(JSON.parse((await redfly(['server', 'stop', '--json'])).stdout).stopped).toBe(true);
});

test('autostart starts a fresh server when the pid in a stale server.json belongs to another program', async () => {
  // this test process stands in for "some other program" holding the recorded pid
  writeFileSync(join(home, 'server.json'), JSON.stringify({pid: process.pid, apiUrl: 'http://127.0.0.1:9', port: 9, startedAt: 'x'}));
  const r = await redfly(['redis', 'list', '--json'], {REDFLY_SERVER_PORT: '0', REDFLY_AUTOSTART: '1'});
  expect(r.stderr).toContain('Starting the local redfly server');
  expect(r.code).toBe(0);
  expect(Array.isArray(JSON.parse(r.stdout))).toBe(true);
  const status = JSON.parse((await redfly(['server', 'status', '--json'])).stdout);
  expect(status).toMatchObject({running: true, healthy: true});
  expect(status.pid).not.toBe(process.pid);
  expect(JSON.parse((await redfly(['server', 'stop', '--json'])).stdout).stopped).toBe(true);
});
