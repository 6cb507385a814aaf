// `npm start` and `npm test` check for Redis before they install or build anything: a machine
// without redis-server gets one clear error naming the package, at once.
import {spawnSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const START = path.resolve(__dirname, '../../../scripts/start.js');
const ENSURE = path.resolve(__dirname, '../../../scripts/ensure.js');
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-start-'));
});
afterAll(() => fs.rmSync(tmp, {recursive: true, force: true}));

/** scripts/start.js as `npm start` runs it; a temp home and no autostart in case it got past the check. */
function start(env: Record<string, string>, script: string[] = [START]) {
  const r = spawnSync(process.execPath, script, {
    env: {HOME: tmp, REDFLY_HOME: path.join(tmp, 'home'), REDFLY_AUTOSTART: '0', ...env},
    encoding: 'utf8',
  });
  return {code: r.status, stdout: r.stdout, stderr: r.stderr};
}

test('no redis-server on PATH: exit 1, the package to install, and nothing installed, built or started', () => {
  const r = start({PATH: path.join(tmp, 'empty-bin')});
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('redis-server is not on PATH');
  expect(r.stderr).toContain('sudo apt-get install -y redis-server redis-tools');
  expect(r.stderr).toContain('brew install redis');
  expect(r.stderr).not.toMatch(/installing|building/);
  expect(r.stdout).toBe('');
  expect(fs.existsSync(path.join(tmp, 'home'))).toBe(false);
});

test('REDFLY_REDIS_SERVER naming a missing binary: the error names it', () => {
  const r = start({PATH: process.env.PATH!, REDFLY_REDIS_SERVER: path.join(tmp, 'no-such-redis-server')});
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`REDFLY_REDIS_SERVER is "${path.join(tmp, 'no-such-redis-server')}", which does not run`);
  expect(r.stderr).toContain('apt-get install -y redis-server');
});

test('a Redis older than 7: the error says which version was found and which is needed', () => {
  const old = path.join(tmp, 'redis-server-6');
  fs.writeFileSync(old, '#!/bin/sh\necho "Redis server v=6.2.14 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=1"\n', {mode: 0o755});
  const r = start({PATH: process.env.PATH!, REDFLY_REDIS_SERVER: old});
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${old} is Redis 6.2.14; redfly needs Redis 7 or later`);
  expect(r.stderr).toContain('apt-get install -y redis-server');
});

test("npm test's first step stops the same way", () => {
  const r = start({PATH: path.join(tmp, 'empty-bin')}, [ENSURE, 'redis', 'install', 'build']);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('redis-server is not on PATH');
  expect(r.stderr).toContain('sudo apt-get install -y redis-server redis-tools');
  expect(r.stderr).not.toMatch(/installing|building/);
});

test('the Redis installed here passes the check', () => {
  const r = start({PATH: process.env.PATH!}, [ENSURE, 'redis']);
  expect({code: r.code, stderr: r.stderr}).toEqual({code: 0, stderr: ''});
});
