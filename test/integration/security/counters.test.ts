// Daily counters after a crash (issue 10): a server killed with SIGKILL comes back with today's
// command count as it was a moment before the kill, not an older saved value, so a free plan's
// daily quota cannot be reset by a crash.
import Redis from 'ioredis';
import {api, createDatabase, Platform, sleep, startPlatform} from './platform';

jest.setTimeout(120_000);

let p: Platform | undefined;

afterAll(async () => p && (await p.stop()));

it('keeps the commands counted until a moment before a kill -9', async () => {
  const first = await startPlatform();
  p = first;
  const db = await createDatabase(first, {name: 'counted', plan: '500mb'});
  const c = new Redis(db.privateUrl, {maxRetriesPerRequest: 0});
  for (let i = 0; i < 30; i++) await c.incr('n'); // an early count, saved
  await sleep(2500);
  const pipe = c.pipeline();
  for (let i = 0; i < 3000; i++) pipe.incr('n');
  await pipe.exec();
  c.disconnect();
  const before = (await api(first, 'GET', `/v1/databases/${db.id}/stats`)).body.commandsToday.used;
  expect(before).toBeGreaterThanOrEqual(3030);
  await sleep(1500); // the counters are saved every second: a crash loses at most that
  first.proc.kill('SIGKILL');
  await new Promise((r) => first.proc.once('exit', r));
  p = await startPlatform([], {}, first.home);
  const after = (await api(p, 'GET', `/v1/databases/${db.id}/stats`)).body.commandsToday.used;
  expect(after).toBeGreaterThanOrEqual(before);
});
