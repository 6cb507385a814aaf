// Reads in the client's region, writes to the primary, read-your-writes on one connection even
// when the region's replica is held back, and reads falling back to the primary when the
// replica is down.
import Redis from 'ioredis';
import {GatewayHandle} from '../../../src/gateway';
import {latencyFromDistance} from '../../../src/gateway/latency';
import {admin, Cluster, gateway, MemoryDirectory, restartRedis, startDatabase, stopDatabase, tempRoot, until} from './harness';

let db: Cluster;
let gw: GatewayHandle;
const dir = new MemoryDirectory();
const clients: Redis[] = [];

function connect(region: string): Redis {
  const r = new Redis({port: gw.endpoints[region].port, host: '127.0.0.1', password: 'pw-route', maxRetriesPerRequest: 0, retryStrategy: () => null});
  r.on('error', () => {});
  clients.push(r);
  return r;
}

/** Holds back replication into a replica while it keeps serving reads. */
async function holdBack(port: number, ms: number): Promise<void> {
  const a = admin(port);
  await a.call('CLIENT', 'PAUSE', String(ms), 'WRITE');
  a.disconnect();
}

async function release(port: number): Promise<void> {
  const a = admin(port);
  await a.call('CLIENT', 'UNPAUSE');
  a.disconnect();
}

beforeAll(async () => {
  db = await startDatabase(tempRoot(), 'route', 'pw-route', 'mad', ['ams', 'syd']);
  dir.set('pw-route', db.tenant);
  gw = await gateway(dir, ['mad', 'ams', 'syd', 'ord']);
});

afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

afterAll(async () => {
  await gw?.close();
  await stopDatabase(db);
});

test("reads are served by the region's replica, writes by the primary", async () => {
  const writer = connect('mad');
  await writer.set('where', 'v1');
  const amsReader = connect('ams');
  await until(async () => (await amsReader.get('where')) === 'v1');
  // With the replica held back, a write straight to the primary is not yet visible to a
  // reader in ams (its read is served by the replica) but is in mad.
  await holdBack(db.replicas.ams.port, 5000);
  try {
    const p = admin(db.primary.port);
    await p.set('where', 'v2');
    p.disconnect();
    expect(await amsReader.get('where')).toBe('v1');
    expect(await connect('mad').get('where')).toBe('v2');
    // A write through the ams endpoint reaches the primary, and the writer waits for it.
    const amsWriter = connect('ams');
    expect(await amsWriter.set('from-ams', 'x')).toBe('OK');
    const p2 = admin(db.primary.port);
    expect(await p2.get('from-ams')).toBe('x');
    p2.disconnect();
  } finally {
    await release(db.replicas.ams.port);
  }
});

test('read-your-writes on one connection while the replica is held back', async () => {
  const r = connect('ams');
  await r.set('ryw', '0');
  await until(async () => (await connect('ams').get('ryw')) === '0');
  await holdBack(db.replicas.ams.port, 5000);
  try {
    for (let i = 1; i <= 20; i++) {
      await r.set('ryw', String(i));
      expect(await r.get('ryw')).toBe(String(i));
      // Also within one pipeline.
      const res = (await r.pipeline().incr('ryw:n').get('ryw:n').hset('ryw:h', 'f', String(i)).hget('ryw:h', 'f').exec())!;
      expect(res[1][1]).toBe(String(res[0][1]));
      expect(res[3][1]).toBe(String(i));
    }
    // Another connection that wrote nothing still reads the (stale) replica.
    expect(await connect('ams').get('ryw')).toBe('0');
  } finally {
    await release(db.replicas.ams.port);
  }
  // Once the replica caught up, everyone sees the writes.
  await until(async () => (await connect('ams').get('ryw')) === '20');
});

test("WAIT counts the replicas that have this connection's writes", async () => {
  const r = connect('ams');
  await r.set('w', '1');
  expect(await r.call('WAIT', '2', '2000')).toBe(2);
  await holdBack(db.replicas.ams.port, 3000);
  try {
    await r.set('w', '2');
    expect(await r.call('WAIT', '2', '300')).toBe(1);
  } finally {
    await release(db.replicas.ams.port);
  }
  expect(await r.call('WAIT', '2', '2000')).toBe(2);
});

test('a region without a copy reads from the primary', async () => {
  const r = connect('ord');
  await r.set('ord-key', 'v');
  expect(await connect('ord').get('ord-key')).toBe('v');
});

test('a replica that is down: its region reads from the primary', async () => {
  const w = connect('mad');
  await w.set('down-key', 'before');
  await until(async () => (await connect('syd').get('down-key')) === 'before');
  db.replicas.syd.proc.kill('SIGKILL');
  await new Promise((r) => db.replicas.syd.proc.once('exit', r));
  await w.set('down-key', 'after');
  // A connection whose read was in flight on the dead replica is closed, as the server would
  // be; new reads in syd are served by the primary.
  await until(async () => {
    const c = connect('syd');
    try {
      return (await c.get('down-key')) === 'after';
    } catch {
      return false;
    }
  });
  const r = connect('syd');
  for (let i = 0; i < 10; i++) expect(await r.get('down-key')).toBe('after');
  expect(gw.usage('route').replicationLagMs.syd).toBeNull();
  // Back: syd's reads return to its replica (a read that the held-back replica answers stale).
  await restartRedis(db.replicas.syd);
  await until(() => gw.usage('route').replicationLagMs.syd === 0);
  await holdBack(db.replicas.syd.port, 3000);
  try {
    const p = admin(db.primary.port);
    await p.set('down-key', 'newest');
    p.disconnect();
    expect(await connect('syd').get('down-key')).toBe('after');
  } finally {
    await release(db.replicas.syd.port);
  }
});

test('replication lag is reported per region', async () => {
  const w = connect('mad');
  await w.set('lag', '0');
  await until(() => gw.usage('route').replicationLagMs.ams === 0);
  await holdBack(db.replicas.ams.port, 3000);
  try {
    await w.set('lag', '1');
    await until(() => (gw.usage('route').replicationLagMs.ams ?? 0) > 100);
  } finally {
    await release(db.replicas.ams.port);
  }
  await until(() => gw.usage('route').replicationLagMs.ams === 0);
  const u = gw.usage('route');
  expect(u.dataSizeBytes).toBeGreaterThan(0);
  expect(u.connections).toBeGreaterThanOrEqual(1);
});

test('simulated latency: writes from a replica region pay the trip to the primary', async () => {
  expect(latencyFromDistance('mad', 'ams')).toBeGreaterThan(10);
  expect(latencyFromDistance('mad', 'syd')).toBeGreaterThan(latencyFromDistance('mad', 'ams'));
  const slow = await gateway(dir, ['mad', 'ams'], {simulateLatency: (from, to) => (from !== to ? 300 : 0)});
  try {
    const r = new Redis({port: slow.endpoints.ams.port, host: '127.0.0.1', password: 'pw-route', maxRetriesPerRequest: 0});
    clients.push(r);
    await r.ping();
    const t0 = Date.now();
    await r.set('far', 'x');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    await until(async () => (await connect('ams').get('far')) === 'x');
  } finally {
    await slow.close();
  }
});

test('usage counts connections, commands and bytes of all regions together; probe samples an idle database', async () => {
  await until(() => gw.usage('route').connections === 0);
  const before = gw.usage('route');
  const a = connect('mad');
  const b = connect('ams');
  await a.set('u', 'x'.repeat(1000));
  await b.get('u');
  expect(gw.usage('route').connections).toBe(2);
  const after = gw.usage('route');
  // ioredis also sends INFO on connect: at least the SET and the GET were counted.
  expect(after.commandsToday).toBeGreaterThanOrEqual(before.commandsToday + 2);
  expect(after.bandwidthTodayBytes).toBeGreaterThanOrEqual(before.bandwidthTodayBytes + 2000);
  const probed = await gw.probe(db.tenant);
  expect(probed.dataSizeBytes).toBeGreaterThan(0);
  expect(Object.keys(probed.replicationLagMs).sort()).toEqual(['ams', 'syd']);
});
