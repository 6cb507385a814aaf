import * as fs from 'node:fs';
import {LocalProvisioner} from '../../../src/provision/local';
import type {ProcessHealth, ProcessSpec} from '../../../src/provision/types';
import {closeClients, connected, desired, eventually, internal, isAlive, killEverythingUnder, SECRET, tempHome} from './helpers';

const home = tempHome();
const events: {id: string; health: ProcessHealth; message: string}[] = [];
const provisioner = new LocalProvisioner({
  home,
  internalSecret: SECRET,
  events: {onProcessEvent: (id, health, message) => events.push({id, health, message})},
});
const db = desired('dbsupervised', ['ams']);
let specs: ProcessSpec[];

beforeAll(async () => {
  specs = await provisioner.ensure(db);
});

afterAll(async () => {
  closeClients();
  await provisioner.stopAll();
  killEverythingUnder(home);
  fs.rmSync(home, {recursive: true, force: true});
});

const port = (region: string) => specs.find((s) => s.region === region)!.port;
const healthOf = (region: string) => provisioner.health(db.id).find((h) => h.region === region)!;

async function killAndAwaitRestart(region: string): Promise<ProcessHealth> {
  const before = healthOf(region);
  process.kill(before.pid!, 'SIGKILL');
  return eventually(() => {
    const h = healthOf(region);
    return h.state === 'running' && h.pid !== before.pid && h.restarts === before.restarts + 1 && h;
  }, `${region} to be restarted`);
}

test('a replica killed with SIGKILL comes back on the same port, linked to the primary', async () => {
  const primary = await internal(port('mad'));
  await primary.set('before', '1');
  const h = await killAndAwaitRestart('ams');
  expect(h.port).toBe(port('ams'));
  expect(h.lastExit).toMatch(/^killed by SIGKILL at /);
  expect(events.map((e) => e.message)).toEqual(
    expect.arrayContaining(['replica in ams killed by SIGKILL, restarting', 'replica in ams killed by SIGKILL, restarted']),
  );
  expect(events.every((e) => e.id === db.id)).toBe(true);
  await primary.set('after', '2');
  const replica = await internal(port('ams'));
  await eventually(async () => (await replica.get('after')) === '2', 'the write to reach the restarted replica');
  expect(await replica.get('before')).toBe('1');
  await expect(replica.set('x', '1')).rejects.toThrow(/READONLY/);
});

test('a primary killed with SIGKILL comes back on the same port with its data, and replication resumes', async () => {
  const primary = await internal(port('mad'));
  for (let i = 0; i < 100; i++) await primary.set(`key:${i}`, `value:${i}`);
  const h = await killAndAwaitRestart('mad');
  expect(h.port).toBe(port('mad'));
  const back = await internal(port('mad'));
  expect(await back.dbsize()).toBeGreaterThanOrEqual(100);
  expect(await back.get('key:99')).toBe('value:99');
  await back.set('after-primary-restart', 'yes');
  const replica = await internal(port('ams'));
  await eventually(async () => (await replica.get('after-primary-restart')) === 'yes', 'replication to resume');
  expect(await replica.get('key:99')).toBe('value:99');
});

test('a process that keeps dying is given up as failed, and ensure() brings it back', async () => {
  // Crashes are counted over a sliding window, so the kill of the first test may count too.
  let kills = 0;
  for (;;) {
    const state = await eventually(() => ['running', 'failed'].includes(healthOf('ams').state) && healthOf('ams').state, 'ams to settle');
    if (state === 'failed' || kills > 10) break;
    const pid = healthOf('ams').pid!;
    process.kill(pid, 'SIGKILL');
    kills++;
    await eventually(() => !isAlive(pid) && healthOf('ams').pid !== pid, 'the kill to be noticed');
  }
  const h = healthOf('ams');
  expect(h.state).toBe('failed');
  expect(kills).toBeLessThanOrEqual(5);
  expect(events[events.length - 1].message).toMatch(/^replica in ams killed by SIGKILL; gave up after 5 crashes/);
  expect(h.pid).toBeNull();
  await expect(internal(port('ams'))).rejects.toThrow();

  await provisioner.ensure({...db, processes: specs});
  expect(healthOf('ams').state).toBe('running');
  const replica = await internal(port('ams'));
  expect(await replica.get('key:99')).toBe('value:99');
});

test('a password reset while a process is being restarted: it comes back, still closed to both passwords', async () => {
  const before = healthOf('mad');
  process.kill(before.pid!, 'SIGKILL');
  await eventually(() => healthOf('mad').pid !== before.pid, 'the kill to be noticed');
  await provisioner.setPassword(db.id, 'password-after-crash');
  await eventually(() => healthOf('mad').state === 'running' && healthOf('mad').restarts === before.restarts + 1, 'mad to be restarted');
  await expect(connected(port('mad'), db.password)).rejects.toThrow(/WRONGPASS/);
  await expect(connected(port('mad'), 'password-after-crash')).rejects.toThrow(/WRONGPASS/);
  expect(await (await internal(port('mad'))).get('key:99')).toBe('value:99');
  expect(await (await internal(port('ams'))).ping()).toBe('PONG');
});
