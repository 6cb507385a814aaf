import '../../helpers/oclif-env';
import RedisStatus from '../../../../src/commands/redis/status';
import {api, apiError, db, DB_KEYS, run, useFakeApi} from '../../helpers/harness';

const stats = {
  id: 'abcdefghijklmno',
  connections: {used: 3, limit: 100},
  commandsToday: {used: 2500, limit: 10000},
  bandwidthTodayBytes: {used: 1048576, limit: 10737418240},
  dataSizeBytes: {used: 52428800, limit: 104857600},
  replicationLagMs: {ams: 2, fra: null},
};

describe('redis status', () => {
  useFakeApi();

  it('shows a key/value view with endpoints and usage against the plan', async () => {
    const scope = api()
      .get('/v1/databases/my-cache')
      .reply(200, db({readRegions: ['ams', 'fra'], endpoints: {mad: 'redis://default:s@127.0.0.1:1', ams: 'redis://default:s@127.0.0.2:1'}}))
      .get('/v1/databases/my-cache/stats')
      .reply(200, stats);
    const {stdout, stderr, exitCode} = await run(RedisStatus, ['my-cache']);
    expect(exitCode).toBe(0);
    expect(stderr).toBe('');
    const rows = Object.fromEntries(stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/)));
    expect(rows).toMatchObject({
      ID: 'abcdefghijklmno',
      Name: 'my-cache',
      Organization: 'personal',
      'Primary region': 'mad',
      'Read regions': 'ams,fra',
      Eviction: 'disabled',
      Status: 'ready',
      'Private URL': 'redis://default:secret@127.0.0.1:7001',
      'Endpoint mad': 'redis://default:s@127.0.0.1:1',
      'Endpoint ams': 'redis://default:s@127.0.0.2:1',
      Connections: '3 of 100 (3%)',
      'Commands today': '2,500 of 10,000 (25%)',
      'Data size': '50 MB of 100 MB (50%)',
      'Replication lag': 'ams 2 ms, fra unknown',
    });
    scope.done();
  });

  it('--json: the database document plus endpoints and usage', async () => {
    const scope = api()
      .get('/v1/databases/my-cache').reply(200, db({endpoints: {mad: 'redis://x'}, processes: []}))
      .get('/v1/databases/my-cache/stats').reply(200, stats);
    const {stdout, exitCode} = await run(RedisStatus, ['my-cache', '--json']);
    expect(exitCode).toBe(0);
    const doc = JSON.parse(stdout);
    // Issue 13: at least what the text says, the processes included.
    expect(Object.keys(doc).sort()).toEqual([...DB_KEYS, 'endpoints', 'processes', 'usage'].sort());
    expect(doc.usage.connections).toEqual({used: 3, limit: 100});
    scope.done();
  });

  it('still shows the database when the server cannot give usage', async () => {
    const scope = api()
      .get('/v1/databases/my-cache').reply(200, db({status: 'failed', statusMessage: 'primary exited'}))
      .get('/v1/databases/my-cache/stats').times(3).reply(503, apiError('redis_unavailable', 'primary is down'));
    const {stdout, exitCode} = await run(RedisStatus, ['my-cache']);
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/Status\s+failed \(primary exited\)/);
    expect(stdout).not.toContain('Connections');
    scope.done();
  });

  it("--org names the organization of an ambiguous name; without it the API's 409 says which to pass", async () => {
    const scope = api()
      .get('/v1/databases/my-cache').reply(409, apiError('ambiguous_name', '2 databases are named my-cache', {orgs: ['acme', 'personal']}))
      .get('/v1/databases/my-cache/stats').reply(409, apiError('ambiguous_name', '2 databases are named my-cache', {orgs: ['acme', 'personal']}))
      .get('/v1/databases/my-cache').query({org: 'acme'}).reply(200, db({org: 'acme'}))
      .get('/v1/databases/my-cache/stats').query({org: 'acme'}).reply(200, stats);
    const ambiguous = await run(RedisStatus, ['my-cache']);
    expect(ambiguous.exitCode).not.toBe(0);
    expect(ambiguous.stderr).toContain("pass --org with the database's organization: acme, personal");
    const picked = await run(RedisStatus, ['my-cache', '--org', 'acme', '--json']);
    expect(picked.exitCode).toBe(0);
    expect(JSON.parse(picked.stdout).org).toBe('acme');
    scope.done();
  });
});
