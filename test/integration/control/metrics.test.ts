// GET /metrics against a real server: a real Redis client (ioredis) drives a database with a
// replica and the organization's regional cache, and the scrape shows what `redis status` shows,
// the processes (with a restart after a crash) and the cache's replay figures.
import {
  api,
  cleanup,
  Clients,
  endpointOf,
  eventually,
  Json,
  pidOnPort,
  portOf,
  startServer,
  tempHome,
  TestServer,
  waitForStatus,
} from './helpers';

jest.setTimeout(120_000);

let s: TestServer;
let db: Json;
const clients = new Clients();

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format, the subset prom-client writes: `name{a="b",...} value`. */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    out.push({name: m[1], labels, value: Number(m[3])});
  }
  return out;
}

async function scrape(token = s.token): Promise<{status: number; type: string | null; samples: Sample[]; text: string}> {
  const res = await fetch(`${s.apiUrl}/metrics`, {headers: {authorization: `Bearer ${token}`}});
  const text = await res.text();
  return {status: res.status, type: res.headers.get('content-type'), samples: res.status === 200 ? parse(text) : [], text};
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value;
}

beforeAll(async () => {
  s = await startServer(tempHome('metrics'));
  const created = await api(s, 'POST', '/v1/databases', {org: 'personal', name: 'metered', primaryRegion: 'ams', readRegions: ['mad'], plan: '200mb'});
  expect(created.status).toBe(201);
  db = await waitForStatus(s, 'metered', 'ready');
});

afterAll(async () => {
  await clients.closeAll();
  if (s) await cleanup(s.home);
});

test('needs a token; prom-client text format', async () => {
  const res = await fetch(`${s.apiUrl}/metrics`);
  expect(res.status).toBe(401);
  expect((await res.json()).error.code).toBe('unauthorized');
  const ok = await scrape();
  expect(ok.status).toBe(200);
  expect(ok.type).toMatch(/^text\/plain; version=0\.0\.4/);
  expect(ok.text).toContain('# TYPE redfly_database_commands_total counter');
});

test("a client's load shows up per database, and matches the stats `redis status` shows", async () => {
  const client = clients.open(endpointOf(db, 'ams'));
  const pipeline = client.pipeline();
  for (let i = 0; i < 500; i++) pipeline.set(`k${i}`, 'x'.repeat(100));
  await pipeline.exec();
  const l = {org: 'personal', database: 'metered'};
  // the gateway samples replication lag while clients are connected; wait for the replica's figure
  const samples = await eventually('a replication-lag sample', async () => {
    const {samples} = await scrape();
    return value(samples, 'redfly_database_replication_lag_seconds', {...l, region: 'mad'}) !== undefined ? samples : undefined;
  });
  const stats = (await api(s, 'GET', '/v1/databases/metered/stats')).body;

  expect(value(samples, 'redfly_database_up', l)).toBe(1);
  expect(value(samples, 'redfly_database_status', {...l, status: 'ready'})).toBe(1);
  expect(value(samples, 'redfly_database_status', {...l, status: 'failed'})).toBe(0);
  const commands = value(samples, 'redfly_database_commands_total', l)!;
  expect(commands).toBeGreaterThanOrEqual(500);
  expect(commands).toBeLessThanOrEqual(stats.commandsToday.used);
  expect(value(samples, 'redfly_database_bandwidth_bytes_total', l)).toBeGreaterThan(500 * 100);
  expect(value(samples, 'redfly_database_connections', l)).toBe(stats.connections.used);
  expect(stats.connections.used).toBeGreaterThanOrEqual(1);
  expect(value(samples, 'redfly_database_memory_bytes', l)).toBeGreaterThan(0);
  expect(value(samples, 'redfly_database_limit', {...l, limit: 'data_size_bytes'})).toBe(stats.dataSizeBytes.limit);
  expect(value(samples, 'redfly_database_limit', {...l, limit: 'daily_bandwidth_bytes'})).toBe(stats.bandwidthTodayBytes.limit);
  expect(value(samples, 'redfly_database_limit_reached', {...l, limit: 'daily_bandwidth_bytes'})).toBe(0);
  expect(value(samples, 'redfly_database_replica_up', {...l, region: 'mad'})).toBe(1);
  expect(value(samples, 'redfly_database_replication_lag_seconds', {...l, region: 'mad'})).toBeGreaterThanOrEqual(0);
  for (const region of ['ams', 'mad']) {
    const p = {...l, region};
    expect(value(samples, 'redfly_process_state', {...p, state: 'running'})).toBe(1);
    expect(value(samples, 'redfly_process_restarts_total', p)).toBe(0);
  }

  // more load: the counter moves
  for (let i = 0; i < 50; i++) await client.get(`k${i}`);
  const after = await scrape();
  expect(value(after.samples, 'redfly_database_commands_total', l)).toBeGreaterThanOrEqual(commands + 50);
});

test('a crashed process is restarted and counted', async () => {
  const pid = pidOnPort(s.home, portOf(db, 'mad'));
  expect(pid).toBeDefined();
  process.kill(pid!, 'SIGKILL');
  const l = {org: 'personal', database: 'metered', region: 'mad'};
  await eventually('the restart in /metrics', async () => {
    const {samples} = await scrape();
    return value(samples, 'redfly_process_restarts_total', l) === 1 && value(samples, 'redfly_process_state', {...l, state: 'running'}) === 1
      ? true
      : undefined;
  });
});

test("the regional cache's backlog and replay lag per region", async () => {
  const info = (await api(s, 'GET', '/v1/orgs/personal/cache')).body;
  const url = info.regions.find((r: Json) => r.region === 'ams').url;
  const cache = clients.open(`${url}/1`); // database 1 is the one replayed to every region
  for (let i = 0; i < 20; i++) await cache.set(`c${i}`, 'v');
  const samples = await eventually('cache figures', async () => {
    const {samples} = await scrape();
    return value(samples, 'redfly_cache_region_state', {org: 'personal', region: 'ams', state: 'live'}) === 1 ? samples : undefined;
  });
  expect(value(samples, 'redfly_cache_commands_accepted_total', {org: 'personal'})).toBeGreaterThanOrEqual(20);
  expect(value(samples, 'redfly_cache_backlog_entries', {org: 'personal'})).toBeGreaterThanOrEqual(0);
  expect(value(samples, 'redfly_cache_backlog_max_bytes', {org: 'personal'})).toBeGreaterThan(0);
  expect(value(samples, 'redfly_cache_replay_lag_entries', {org: 'personal', region: 'ams'})).toBeGreaterThanOrEqual(0);
  expect(value(samples, 'redfly_cache_replay_lag_seconds', {org: 'personal', region: 'ams'})).toBeGreaterThanOrEqual(0);
  expect(value(samples, 'redfly_cache_keys', {org: 'personal', region: 'ams'})).toBeGreaterThanOrEqual(20);
  // a region nobody used is idle, without lag series
  const idle = info.regions.find((r: Json) => r.region !== 'ams').region;
  expect(value(samples, 'redfly_cache_region_state', {org: 'personal', region: idle, state: 'idle'})).toBe(1);
  expect(value(samples, 'redfly_cache_replay_lag_entries', {org: 'personal', region: idle})).toBeUndefined();
});

test("a token sees its organizations' series only", async () => {
  expect((await api(s, 'POST', '/v1/orgs', {slug: 'other'})).status).toBe(201);
  const t = (await api(s, 'POST', '/v1/orgs/other/tokens', {name: 'scraper'})).body.token;
  const {status, samples} = await scrape(t);
  expect(status).toBe(200);
  expect(samples.filter((x) => x.labels.org === 'personal')).toEqual([]);
  expect(value(samples, 'redfly_cache_backlog_entries', {org: 'other'})).toBe(0);
});
