// One timer notices the death of every adopted process (issue 11: 1,000 adopted redis-servers,
// one check loop). Real processes: `sleep` children killed by the test.
import {spawn} from 'node:child_process';
import {PidWatch} from '../../../src/provision/pid-watch';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (cond: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(10);
  }
};

test('each watcher hears once of its own process dying, the others not; unwatched ones not at all', async () => {
  const kids = [0, 1, 2].map(() => spawn('sleep', ['30'], {stdio: 'ignore'}));
  const exits = kids.map((k) => new Promise((r) => k.on('exit', r)));
  const watch = new PidWatch(20);
  const heard: number[] = [];
  kids.forEach((k, i) => watch.add(k.pid!, () => heard.push(i)));
  const unwatch = watch.add(kids[2].pid!, () => heard.push(99));
  unwatch();
  unwatch(); // idempotent
  expect(watch.size).toBe(3);
  kids[1].kill('SIGKILL');
  await exits[1];
  await until(() => heard.length === 1);
  await sleep(100); // more checks: still once
  expect(heard).toEqual([1]);
  expect(watch.size).toBe(2);
  kids[0].kill('SIGKILL');
  kids[2].kill('SIGKILL');
  await Promise.all(exits);
  await until(() => heard.length === 3);
  expect(heard.sort()).toEqual([0, 1, 2]);
  expect(watch.size).toBe(0);
});

test('a watcher that throws does not keep the others from hearing', async () => {
  let alive = true;
  const watch = new PidWatch(10, () => alive);
  const heard: string[] = [];
  watch.add(4242, () => {
    throw new Error('boom');
  });
  watch.add(4242, () => heard.push('second'));
  alive = false;
  await until(() => heard.length === 1);
  expect(heard).toEqual(['second']);
});
