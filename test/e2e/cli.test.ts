// The built CLI against a real control plane and real redis-server processes: the whole life of
// a database, once as a script would drive it (--json) and once as a person reading tables.
import * as fs from 'node:fs';
import Redis from 'ioredis';
import {assertBuilt, cliEnv, ok, redfly, startServer, stopServer, tempHome} from './helpers';

const DB_KEYS = ['createdAt', 'eviction', 'id', 'name', 'org', 'plan', 'primaryRegion', 'privateUrl', 'readOnlyRestToken', 'readRegions', 'restToken', 'restUrl', 'status', 'updatedAt'];

let home: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  assertBuilt();
  home = tempHome();
  env = cliEnv(home);
  await startServer(home);
}, 60_000);

afterAll(async () => {
  if (home) {
    await stopServer(home);
    fs.rmSync(home, {recursive: true, force: true});
  }
}, 60_000);

const run = (args: string[], input?: string) => redfly(args, {env, input});

async function roundTrip(url: string, key: string): Promise<string | null> {
  const client = new Redis(url, {lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null});
  try {
    await client.connect();
    await client.set(key, 'hello');
    return await client.get(key);
  } finally {
    client.disconnect();
  }
}

async function authFails(url: string): Promise<boolean> {
  const client = new Redis(url, {lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null});
  // ioredis reports a refused AUTH as an 'error' event, then fails the command as "closed".
  const errors: string[] = [];
  client.on('error', (error) => errors.push(String(error)));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    errors.push(String(error));
  } finally {
    client.disconnect();
  }
  return errors.some((e) => /WRONGPASS|NOAUTH/.test(e));
}

describe('--json: create -> list -> status -> use -> update -> reset -> delete', () => {
  it('drives a database through its life with one JSON document per command', async () => {
    const created = ok(await run(['redis', 'create', '--org', 'personal', '--name', 'e2e-json', '--region', 'mad', '--replica-regions', 'ams', '--plan', 'free', '--json']));
    const db = JSON.parse(created.stdout);
    // create --json also has the per-region endpoints, as its text has the URL (issue 13)
    expect(Object.keys(db).sort()).toEqual([...DB_KEYS, 'endpoints'].sort());
    expect(db).toMatchObject({name: 'e2e-json', org: 'personal', primaryRegion: 'mad', readRegions: ['ams'], plan: 'free', eviction: false, status: 'ready'});

    const list = ok(await run(['redis', 'list', '--json']));
    expect(JSON.parse(list.stdout).map((d: {name: string}) => d.name)).toContain('e2e-json');

    const status = ok(await run(['redis', 'status', 'e2e-json', '--json']));
    expect(JSON.parse(status.stdout)).toMatchObject({id: db.id, privateUrl: db.privateUrl});

    expect(await roundTrip(db.privateUrl, 'e2e:key')).toBe('hello');

    const updated = ok(await run(['redis', 'update', 'e2e-json', '--replica-regions', '', '--plan', '200mb', '--enable-eviction', '--json']));
    expect(JSON.parse(updated.stdout)).toMatchObject({readRegions: [], plan: '200mb', eviction: true, status: 'ready'});

    const reset = ok(await run(['redis', 'reset', db.id, '--json']));
    const newUrl = JSON.parse(reset.stdout).privateUrl;
    expect(newUrl).not.toBe(db.privateUrl);
    expect(await authFails(db.privateUrl)).toBe(true);
    expect(await roundTrip(newUrl, 'e2e:key2')).toBe('hello');

    const deleted = ok(await run(['redis', 'delete', 'e2e-json', '--yes', '--json']));
    expect(JSON.parse(deleted.stdout).id).toBe(db.id);

    const gone = await run(['redis', 'status', 'e2e-json', '--json']);
    expect(gone.exitCode).toBe(1);
    expect(JSON.parse(gone.stdout).error.code).toBe('not_found');
  });

  it('refuses bad input with exit 2 and a JSON error, creating nothing', async () => {
    const before = ok(await run(['redis', 'list', '--json'])).stdout;
    const missing = await run(['redis', 'create', '--json']);
    expect(missing.exitCode).toBe(2);
    expect(JSON.parse(missing.stdout)).toEqual({
      error: {code: 'missing_flags', message: expect.stringContaining('--region, --replica-regions (or --no-replicas), --plan')},
    });
    const badReplica = await run(['redis', 'create', '-r', 'mad', '--replica-regions', 'ams,atlantis', '--plan', 'free', '--json']);
    expect(badReplica.exitCode).toBe(2);
    expect(JSON.parse(badReplica.stdout).error.message).toContain('valid region codes: ams,'); // the API's words, one rule (issue 13)
    expect(ok(await run(['redis', 'list', '--json'])).stdout).toBe(before);
  });
});

describe('tables: the same life as a person sees it', () => {
  it('prints readable output at every step, and redis-cli connects', async () => {
    const created = ok(await run(['redis', 'create', '-n', 'e2e-table', '-r', 'fra', '--no-replicas', '--plan', 'free', '--disable-eviction']));
    expect(created.stdout).toMatch(/^Database e2e-table \(\w{15}\) is ready in fra\.$/m);
    const url = /^URL: (redis:\/\/\S+)$/m.exec(created.stdout)?.[1];
    expect(url).toBeDefined();
    expect(created.stderr).toContain('Provisioning e2e-table... ready');

    const list = await run(['redis', 'ls']);
    const header = list.stdout.split('\n')[0].split(/\s{2,}/);
    expect(header).toEqual(['ID', 'NAME', 'ORG', 'PLAN', 'PRIMARY REGION', 'READ REGIONS', 'EVICTION', 'STATUS']);
    const row = list.stdout.split('\n').find((l) => l.includes('e2e-table'))!.split(/\s{2,}/);
    expect(row.slice(1)).toEqual(['e2e-table', 'personal', 'free', 'fra', '-', 'disabled', 'ready']);
    expect(list.stdout).not.toMatch(/\u001B\[/);

    const status = await run(['redis', 'status', 'e2e-table']);
    expect(status.stdout).toMatch(new RegExp(`^Private URL\\s+${url!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    expect(status.stdout).toMatch(/^Data size\s+.+ of 100 MB/m);

    const connect = ok(await run(['redis', 'connect', 'e2e-table'], 'SET via-cli yes\nGET via-cli\n'));
    expect(connect.stdout).toBe('OK\nyes\n');
    expect(connect.stderr).not.toContain('Warning: Using a password');

    const update = ok(await run(['redis', 'update', 'e2e-table', '--replica-regions', 'ams,cdg']));
    expect(update.stdout).toBe('Updated e2e-table: read regions - -> ams,cdg.\n');

    const reset = await run(['redis', 'reset', 'e2e-table']);
    expect(reset.stdout).toMatch(/^URL: redis:\/\/default:\w+@/m);

    const refused = await run(['redis', 'delete', 'e2e-table']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('Missing flag --yes');

    const deleted = ok(await run(['redis', 'destroy', 'e2e-table', '-y']));
    expect(deleted.stdout).toMatch(/^Deleted database e2e-table/);

    const missing = await run(['redis', 'status', 'e2e-table']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('Code: not_found');
    expect(missing.stderr).toContain('Try this: redfly redis list');

    const empty = await run(['redis', 'list']);
    expect(empty.stdout).toBe('No databases found.\n');
  });

  it('prints plans, regions, orgs and whoami as tables or lines', async () => {
    const plans = await run(['redis', 'plans']);
    expect(plans.stdout).toMatch(/^free\s+Free\s+100 MB\s+100\s+300\s+10,000\s+10 GB/m);
    const regions = await run(['regions', 'list']);
    expect(regions.stdout).toMatch(/^mad\s+Madrid, Spain$/m);
    const orgs = await run(['orgs', 'list', '--json']);
    expect(JSON.parse(orgs.stdout).map((o: {slug: string}) => o.slug)).toContain('personal');
    const whoami = await run(['auth', 'whoami']);
    expect(whoami.stdout).toMatch(/^Organizations: .*personal/m);
  });
});

describe('autostart', () => {
  it('starts the local server when nothing answers, saying so in one line on stderr', async () => {
    const other = tempHome();
    const otherEnv = cliEnv(other, {REDFLY_AUTOSTART: '1', REDFLY_SERVER_PORT: '0'});
    try {
      const refused = await redfly(['redis', 'list'], {env: cliEnv(other)});
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain('local server');
      expect(refused.stderr).toContain('redfly server start');

      const started = await redfly(['redis', 'list', '--json'], {env: otherEnv});
      expect(started.exitCode).toBe(0);
      expect(JSON.parse(started.stdout)).toEqual([]);
      expect(started.stderr.trim().split('\n')).toEqual([
        `Starting the local redfly server in the background (state in ${other})...`,
      ]);
      const again = await redfly(['redis', 'list', '--json'], {env: otherEnv});
      expect(again.stderr).toBe('');
    } finally {
      await stopServer(other);
      fs.rmSync(other, {recursive: true, force: true});
    }
  });
});
