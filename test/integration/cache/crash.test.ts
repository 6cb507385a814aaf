// The process that owns the cache is killed (SIGKILL) with a backlog pending in a region whose
// backend is stopped: after a new owner starts on the same state folder, every acknowledged
// command is applied in every region, exactly once and in order.
import {ChildProcess, spawn} from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import {buildSync} from 'esbuild';
import {CacheService} from '../../../src/cache';
import {openCache, Regions, rmrf, tempDir} from './helpers';

const ROOT = path.resolve(__dirname, '../../..');
let dir: string;
let bundle: string;
let owner: ChildProcess | null = null;
let cache: CacheService | null = null;
let stoppedPid = 0;

beforeAll(() => {
  dir = tempDir();
  // In the project (tmp/ is git-ignored) so that better-sqlite3 resolves from node_modules.
  fs.mkdirSync(path.join(ROOT, 'tmp'), {recursive: true});
  bundle = path.join(ROOT, 'tmp', `cache-crash-${process.pid}.js`);
  buildSync({
    entryPoints: [path.join(ROOT, 'src/cache/index.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: bundle,
    external: ['better-sqlite3', 'ioredis'],
    logLevel: 'error',
  });
});

afterAll(async () => {
  if (stoppedPid) {
    try {
      process.kill(stoppedPid, 'SIGCONT');
    } catch {
      /* gone */
    }
  }
  owner?.kill('SIGKILL');
  await cache?.close();
  rmrf(dir);
  fs.rmSync(bundle, {force: true});
});

test('SIGKILL of the owner loses nothing acknowledged and applies nothing twice', async () => {
  owner = spawn(process.execPath, [path.join(__dirname, 'fixtures/owner.js'), bundle, dir], {stdio: ['pipe', 'pipe', 'inherit']});
  const lines = readline.createInterface({input: owner.stdout!});
  const next = (() => {
    const it = lines[Symbol.asyncIterator]();
    return async () => String((await it.next()).value);
  })();
  const ready = await next();
  expect(ready).toMatch(/^READY /);
  const pids = JSON.parse(ready.slice(6)) as Record<string, number>;
  stoppedPid = pids.syd;
  process.kill(stoppedPid, 'SIGSTOP');

  const N = 300;
  const acked: number[] = [];
  for (let i = 0; i < N; i++) {
    owner.stdin!.write(`${JSON.stringify(['INCR', 'hits'])}\n${JSON.stringify(['RPUSH', 'log', String(i)])}\n`);
    acked.push(Number(await next()), Number(await next()));
  }
  expect(acked).toEqual(Array.from({length: 2 * N}, (_, i) => i + 1));
  owner.kill('SIGKILL');
  await new Promise((r) => owner!.once('exit', r));
  owner = null;
  process.kill(stoppedPid, 'SIGCONT');
  stoppedPid = 0;

  cache = await openCache(dir, {});
  expect(cache.lastSeq('crashy')).toBe(2 * N);
  expect(cache.processOf('crashy', 'syd')!.pid).toBe(pids.syd); // adopted with its data
  await cache.waitApplied('crashy');
  const regions = new Regions(cache, 'crashy');
  try {
    expect(await regions.each((c) => c.get('hits'))).toEqual({mad: String(N), ams: String(N), syd: String(N)});
    const order = Array.from({length: N}, (_, i) => String(i));
    expect(await regions.each((c) => c.lrange('log', 0, -1))).toEqual({mad: order, ams: order, syd: order});
  } finally {
    regions.close();
  }
});
