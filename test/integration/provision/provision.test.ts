import * as fs from 'node:fs';
import * as path from 'node:path';
import {LocalProvisioner} from '../../../src/provision/local';
import * as net from 'node:net';
import {ProcessStartError, RedisServerMissingError, UnsupportedChangeError} from '../../../src/provision/errors';
import type {ProcessSpec} from '../../../src/provision/types';
import {client, closeClients, connected, desired, eventually, internal, isAlive, killEverythingUnder, redisPidsUnder, SECRET, tempHome} from './helpers';

const home = tempHome();
const provisioner = new LocalProvisioner({home, internalSecret: SECRET});

afterAll(async () => {
  closeClients();
  await provisioner.stopAll();
  killEverythingUnder(home);
  fs.rmSync(home, {recursive: true, force: true});
});

const portOf = (specs: ProcessSpec[], region: string) => specs.find((s) => s.region === region)!.port;

describe('a database with a primary and two replicas', () => {
  const db = desired('db1primary2rep', ['ams', 'fra']);
  let specs: ProcessSpec[];

  beforeAll(async () => {
    specs = await provisioner.ensure(db);
  });

  test('ensure() returns a distinct port for every process and all of them are running', () => {
    expect(specs.map((s) => s.region)).toEqual(['mad', 'ams', 'fra']);
    expect(new Set(specs.map((s) => s.port)).size).toBe(3);
    expect(provisioner.health(db.id).map((h) => [h.region, h.role, h.state])).toEqual([
      ['mad', 'primary', 'running'],
      ['ams', 'replica', 'running'],
      ['fra', 'replica', 'running'],
    ]);
  });

  test('a write on the primary is read on each replica', async () => {
    const primary = await internal(portOf(specs, 'mad'));
    await primary.set('greeting', 'hola');
    // WAIT makes the test independent of replication lag.
    expect(await primary.wait(2, 5000)).toBe(2);
    for (const region of ['ams', 'fra']) {
      const replica = await internal(portOf(specs, region));
      expect(await replica.get('greeting')).toBe('hola');
      await expect(replica.set('x', '1')).rejects.toThrow(/READONLY/);
    }
  });

  test('only the internal user opens a process: the database password is refused', async () => {
    const admin = await internal(portOf(specs, 'mad'));
    expect(await admin.config('GET', 'maxmemory')).toEqual(['maxmemory', String(db.maxmemoryBytes)]);
    for (const spec of specs) {
      await expect(connected(spec.port, db.password)).rejects.toThrow(/WRONGPASS/);
      await expect(connected(spec.port, db.password, 'redfly')).rejects.toThrow(/WRONGPASS/);
      await expect(connected(spec.port, 'not-the-password')).rejects.toThrow(/WRONGPASS/);
      // and no password-less access as "default" either
      const anonymous = client(spec.port, '');
      await anonymous.connect().catch(() => undefined);
      await expect(anonymous.get('greeting')).rejects.toThrow(/NOAUTH|closed|writable/);
    }
  });

  test('ensure() again with the same state changes nothing', async () => {
    const pids = provisioner.health(db.id).map((h) => h.pid);
    const again = await provisioner.ensure({...db, processes: specs});
    expect(again).toEqual(specs);
    expect(provisioner.health(db.id).map((h) => h.pid)).toEqual(pids);
  });

  test('setLimits changes maxmemory and the policy on every process, live', async () => {
    await provisioner.setLimits(db.id, 200 * 1024 * 1024, true);
    for (const spec of specs) {
      const admin = await connected(spec.port, SECRET, 'redfly');
      expect(await admin.config('GET', 'maxmemory')).toEqual(['maxmemory', String(200 * 1024 * 1024)]);
      // TTL keys first; the gateway moves to allkeys-random once none is left
      expect(await admin.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'volatile-random']);
    }
  });

  test('setPassword changes nothing on the processes: neither password opens them, data stays', async () => {
    const before = provisioner.health(db.id).map((h) => h.pid);
    await provisioner.setPassword(db.id, 'db-password-2');
    expect(provisioner.health(db.id).map((h) => h.pid)).toEqual(before);
    for (const spec of specs) {
      await expect(connected(spec.port, db.password)).rejects.toThrow(/WRONGPASS/);
      await expect(connected(spec.port, 'db-password-2')).rejects.toThrow(/WRONGPASS/);
      expect(await (await internal(spec.port)).get('greeting')).toBe('hola');
    }
    db.password = 'db-password-2';
  });

  test('removing a replica stops it and deletes its data; the primary keeps serving throughout', async () => {
    const primary = await internal(portOf(specs, 'mad'));
    const fraPid = provisioner.health(db.id).find((h) => h.region === 'fra')!.pid!;
    let writes = 0;
    let failures = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        try {
          await primary.incr('counter');
          writes++;
        } catch {
          failures++;
        }
      }
    })();
    const withoutFra = specs.filter((s) => s.region !== 'fra');
    const result = await provisioner.ensure({...db, processes: withoutFra});
    writing = false;
    await writer;
    expect(result).toEqual(withoutFra);
    expect(failures).toBe(0);
    expect(Number(await primary.get('counter'))).toBe(writes);
    expect(isAlive(fraPid)).toBe(false);
    expect(fs.existsSync(path.join(home, 'data', db.id, 'fra'))).toBe(false);
    expect(provisioner.health(db.id).map((h) => h.region)).toEqual(['mad', 'ams']);
    specs = result;
  });

  test('adding a replica starts it in sync with the existing data', async () => {
    const result = await provisioner.ensure({...db, processes: [...specs, {region: 'syd', role: 'replica', port: 0}]});
    const syd = portOf(result, 'syd');
    expect(syd).toBeGreaterThan(0);
    const replica = await internal(syd);
    expect(await replica.get('greeting')).toBe('hola');
    specs = result;
  });

  test('destroy() stops every process and removes the data; a second destroy is harmless', async () => {
    const pids = provisioner.health(db.id).map((h) => h.pid!);
    await provisioner.destroy(db.id);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(fs.existsSync(path.join(home, 'data', db.id))).toBe(false);
    expect(provisioner.health(db.id)).toEqual([]);
    await expect(internal(portOf(specs, 'mad'))).rejects.toThrow();
    await provisioner.destroy(db.id);
  });
});

describe('stopAll', () => {
  test('leaves no redis-server of this home running, and keeps the data', async () => {
    const db = desired('dbstopall', ['ams']);
    const specs = await provisioner.ensure(db);
    const primary = await internal(portOf(specs, 'mad'));
    await primary.set('kept', 'yes');
    await provisioner.stopAll();
    await eventually(() => redisPidsUnder(home).length === 0, 'every redis-server to exit');
    const back = await provisioner.ensure({...db, processes: specs});
    expect(back).toEqual(specs);
    expect(await (await internal(portOf(specs, 'mad'))).get('kept')).toBe('yes');
    await provisioner.destroy(db.id);
  });
});

describe('without redis-server', () => {
  test('ensure() fails with an error that says how to install it', async () => {
    const missing = new LocalProvisioner({home, internalSecret: SECRET, redisServerPath: path.join(home, 'no-such-redis-server')});
    const err = await missing.ensure(desired('dbmissing', [])).catch((e) => e);
    expect(err).toBeInstanceOf(RedisServerMissingError);
    expect(err.message).toMatch(/apt-get install redis-server/);
    expect(err.message).toMatch(/brew install redis/);
    expect(fs.existsSync(path.join(home, 'data', 'dbmissing'))).toBe(false);
  });
});

describe('changes that cannot be made', () => {
  test('moving the primary to another region is refused and the database keeps running', async () => {
    const db = desired('dbprimarymove', []);
    const specs = await provisioner.ensure(db);
    const moved = {...db, processes: [{region: 'ams', role: 'primary' as const, port: 0}, {region: 'mad', role: 'replica' as const, port: specs[0].port}]};
    await expect(provisioner.ensure(moved)).rejects.toBeInstanceOf(UnsupportedChangeError);
    const elsewhere = {...db, processes: [{region: 'syd', role: 'primary' as const, port: 0}]};
    await expect(provisioner.ensure(elsewhere)).rejects.toBeInstanceOf(UnsupportedChangeError);
    const primary = await internal(specs[0].port);
    expect(await primary.ping()).toBe('PONG');
    expect(provisioner.health(db.id).map((h) => h.region)).toEqual(['mad']);
    expect(fs.existsSync(path.join(home, 'data', db.id, 'syd'))).toBe(false);
    await provisioner.destroy(db.id);
  });

  test('a recorded port taken by another program gives a clear error, not a hang', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      const db = desired('dbportinuse', []);
      const err = await provisioner.ensure({...db, processes: [{region: 'mad', role: 'primary', port}]}).catch((e) => e);
      expect(err).toBeInstanceOf(ProcessStartError);
      expect(err.message).toMatch(/Address already in use/);
      expect(provisioner.health(db.id)[0].state).toBe('failed');
      await provisioner.destroy(db.id);
    } finally {
      squatter.close();
    }
  });
});
