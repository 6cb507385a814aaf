// The shared pid helpers on real child processes.
import {spawn} from 'node:child_process';
import {isRedisServer, pidAlive, terminate} from '../../../src/lib/pids';

function child(script: string) {
  const c = spawn(process.execPath, ['-e', script], {stdio: ['ignore', 'pipe', 'ignore']});
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((r) => c.on('exit', (code, signal) => r({code, signal})));
  const ready = new Promise<void>((r) => c.stdout!.once('data', () => r()));
  return {c, exited, ready};
}

test('terminate repeats SIGTERM, so a process that declines the first one exits by itself, not by SIGKILL', async () => {
  // like Redis writing its first AOF: the first SIGTERM is noted and ignored
  const p = child(`let n = 0; process.on('SIGTERM', () => { if (++n === 2) process.exit(0); }); console.log('up'); setInterval(() => {}, 1000);`);
  await p.ready;
  await terminate(p.c.pid!, {timeoutMs: 5000});
  expect(await p.exited).toEqual({code: 0, signal: null});
});

test('a process that ignores SIGTERM is killed after the timeout', async () => {
  const p = child(`process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000);`);
  await p.ready;
  await terminate(p.c.pid!, {timeoutMs: 300});
  expect((await p.exited).signal).toBe('SIGKILL');
});

test('a live pid that is not a redis-server is not taken for one; a finished one is not alive', async () => {
  expect(pidAlive(process.pid)).toBe(true);
  expect(isRedisServer(process.pid)).toBe(false);
  const p = child(`console.log('up')`);
  await p.ready;
  await p.exited;
  expect(pidAlive(p.c.pid!)).toBe(false);
});
