// `redfly redis proxy` (issue 13): the built CLI forwards a local port to a real database's
// gateway, and redis-cli (which is given no URL, only a port) talks to the database through it.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import {assertBuilt, BIN, cliEnv, ok, redfly, startServer, stopServer, tempHome} from './helpers';

let home: string;
let env: NodeJS.ProcessEnv;
let proxy: ChildProcess | undefined;

beforeAll(async () => {
  assertBuilt();
  home = tempHome('redfly-proxy-');
  env = cliEnv(home);
  await startServer(home);
}, 60_000);

afterAll(async () => {
  if (proxy && proxy.exitCode === null) proxy.kill('SIGTERM');
  if (home) {
    await stopServer(home);
    fs.rmSync(home, {recursive: true, force: true});
  }
}, 60_000);

/** Starts `redfly redis proxy ... --json` and resolves with its one document once it listens. */
function startProxy(args: string[]): Promise<{child: ChildProcess; doc: {localPort: number; localUrl: string; region: string; tls: boolean}}> {
  const child = spawn(process.execPath, [BIN, 'redis', 'proxy', ...args, '--json'], {env, stdio: ['ignore', 'pipe', 'pipe']});
  proxy = child;
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  return new Promise((resolve, reject) => {
    let text = '';
    const lines = readline.createInterface({input: child.stdout!});
    lines.on('line', (line) => {
      text += line;
      try {
        resolve({child, doc: JSON.parse(text)});
      } catch {
        // the document spans several lines: wait for the rest
      }
    });
    child.on('exit', (code) => reject(new Error(`proxy exited ${code}: ${text}${stderr}`)));
  });
}

function redisCli(port: number, password: string, ...command: string[]): string {
  const r = spawnSync('redis-cli', ['-p', String(port), ...command], {env: {...process.env, REDISCLI_AUTH: password}, encoding: 'utf8'});
  if (r.status !== 0) throw new Error(`redis-cli exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

it('redis-cli reaches the database through the proxy, in the primary and in a replica region', async () => {
  const db = JSON.parse(
    ok(await redfly(['redis', 'create', '-o', 'personal', '-n', 'proxied', '-r', 'mad', '--replica-regions', 'ams', '--plan', 'free', '--json'], {env})).stdout,
  );
  const password = decodeURIComponent(new URL(db.privateUrl).password);

  const primary = await startProxy(['proxied', '--port', '0']);
  expect(primary.doc).toMatchObject({region: 'mad', tls: false});
  expect(primary.doc.localUrl).toBe(`redis://default:${encodeURIComponent(password)}@127.0.0.1:${primary.doc.localPort}`);
  expect(redisCli(primary.doc.localPort, password, 'SET', 'through', 'the-proxy')).toBe('OK');
  expect(redisCli(primary.doc.localPort, password, 'GET', 'through')).toBe('the-proxy');
  // The password is still the lock: the proxy adds no access of its own.
  const refused = spawnSync('redis-cli', ['-p', String(primary.doc.localPort), 'PING'], {env: {...process.env, REDISCLI_AUTH: 'wrong'}, encoding: 'utf8'});
  expect(`${refused.stdout}${refused.stderr}`).toMatch(/WRONGPASS|NOAUTH|invalid/i);
  primary.child.kill('SIGINT');
  await new Promise((r) => primary.child.once('exit', r));
  expect(primary.child.exitCode).toBe(0);

  const replica = await startProxy(['proxied', '-r', 'ams', '-p', '0']);
  expect(replica.doc.region).toBe('ams');
  // Another connection, in the replica's region: it sees the write once replication brings it
  // (read-your-writes holds within a connection only; a just-made replica may still be syncing
  // on a loaded machine, where one try once read nothing).
  let seen = '';
  for (let i = 0; i < 50 && seen !== 'the-proxy'; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 200));
    seen = redisCli(replica.doc.localPort, password, 'GET', 'through');
  }
  expect(seen).toBe('the-proxy');
  replica.child.kill('SIGTERM');
  await new Promise((r) => replica.child.once('exit', r));
}, 120_000);

it('a region the database is not in: exit 2, and no port is opened', async () => {
  const r = await redfly(['redis', 'proxy', 'proxied', '-r', 'syd', '-p', '0'], {env});
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toContain('has no copy in region "syd"');
});
