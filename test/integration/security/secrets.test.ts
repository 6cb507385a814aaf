// Secrets at rest (issue 10): a REDFLY_HOME made beforehand with 0755 is tightened by the server,
// every file it and its redis-servers write is the owner's alone (records, SQLite WAL, AOF, logs,
// the regional cache's log), the internal secret is in one file only, and a reset password is
// gone from the disk.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import {api, createDatabase, Platform, sleep, startPlatform, walk} from './platform';

jest.setTimeout(120_000);

let p: Platform;
let db: any;

beforeAll(async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-sec-'));
  fs.chmodSync(home, 0o755);
  fs.mkdirSync(path.join(home, 'cache'), {mode: 0o755});
  fs.writeFileSync(path.join(home, 'notes.txt'), 'made before the server', {mode: 0o644});
  p = await startPlatform([], {}, home);
  db = await createDatabase(p, {name: 'secretive', readRegions: ['ams']});
  const c = new Redis(db.privateUrl, {maxRetriesPerRequest: 0});
  await c.set('k', 'v'); // an AOF with content
  c.disconnect();
  // The regional cache: a backend in one region and the replay log.
  const cache = await api(p, 'GET', '/v1/orgs/personal/cache');
  const cacheUrl = cache.body.regions.find((r: any) => r.region === 'mad').url;
  const cc = new Redis(cacheUrl, {maxRetriesPerRequest: 0});
  await cc.set('local', '1');
  await cc.select(1);
  await cc.set('everywhere', '1');
  cc.disconnect();
  await sleep(1500); // AOF fsync (everysec), replay
});

afterAll(async () => p && (await p.stop()));

function secretFiles(needle: string): string[] {
  return walk(p.home).filter((f) => {
    try {
      return fs.readFileSync(f).includes(needle);
    } catch {
      return false;
    }
  });
}

it('makes REDFLY_HOME 0700 and every folder 0700 and every file 0600', () => {
  expect(fs.statSync(p.home).mode & 0o777).toBe(0o700);
  const wide: string[] = [];
  const visit = (d: string) => {
    for (const e of fs.readdirSync(d, {withFileTypes: true})) {
      const f = path.join(d, e.name);
      if (e.isSymbolicLink()) continue;
      const mode = fs.statSync(f).mode & 0o777;
      if (mode & 0o077) wide.push(`${path.relative(p.home, f)} ${mode.toString(8)}`);
      if (e.isDirectory()) visit(f);
    }
  };
  visit(p.home);
  expect(wide).toEqual([]);
  // what this checked: the WAL, an AOF and redis-server logs are among them
  const names = walk(p.home).map((f) => path.basename(f));
  expect(names).toEqual(expect.arrayContaining(['redfly.db-wal', 'redis.log', 'replay.sqlite']));
  expect(names.some((n) => n.startsWith('appendonly.aof'))).toBe(true);
});

it('keeps the internal secret in one file only', () => {
  const secret = fs.readFileSync(path.join(p.home, 'internal-secret'), 'utf8').trim();
  expect(secret.length).toBeGreaterThan(20);
  expect(secretFiles(secret).map((f) => path.relative(p.home, f))).toEqual(['internal-secret']);
});

it('leaves no trace of a password after a reset', async () => {
  const old = decodeURIComponent(new URL(db.privateUrl).password);
  expect(secretFiles(old).length).toBeGreaterThan(0);
  const reset = await api(p, 'POST', `/v1/databases/${db.id}/reset-password`);
  expect(reset.status).toBe(200);
  expect(secretFiles(old).map((f) => path.relative(p.home, f))).toEqual([]);
});
