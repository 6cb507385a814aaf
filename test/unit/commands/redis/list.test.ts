import '../../helpers/oclif-env';
import RedisList from '../../../../src/commands/redis/list';
import {api, db, DB_KEYS, run, useFakeApi} from '../../helpers/harness';

describe('redis list', () => {
  useFakeApi();

  it('prints a plain table when piped', async () => {
    const scope = api()
      .get('/v1/databases')
      .query({limit: 1000})
      .reply(200, {databases: [db(), db({id: 'zzzzzzzzzzzzzzz', name: 'other', readRegions: ['ams', 'fra'], eviction: true})], nextCursor: null});
    const {stdout, stderr, exitCode} = await run(RedisList, []);
    expect(exitCode).toBe(0);
    expect(stderr).toBe('');
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual(['ID', 'NAME', 'ORG', 'PLAN', 'PRIMARY REGION', 'READ REGIONS', 'EVICTION', 'STATUS']);
    expect(lines[2].split(/\s{2,}/)).toEqual(['zzzzzzzzzzzzzzz', 'other', 'personal', 'free', 'mad', 'ams,fra', 'enabled', 'ready']);
    expect(stdout).not.toMatch(/\u001B\[/);
    scope.done();
  });

  it('scopes to an organization with --org or REDFLY_ORG', async () => {
    process.env.REDFLY_ORG = 'acme';
    const scope = api().get('/v1/databases').query({org: 'acme', limit: 1000}).reply(200, {databases: [], nextCursor: null});
    const {stdout, exitCode} = await run(RedisList, []);
    expect(exitCode).toBe(0);
    expect(stdout).toBe('No databases found.\n');
    scope.done();
  });

  it('--json prints one array of database documents with exactly the documented keys', async () => {
    const scope = api()
      .get('/v1/databases')
      .query({org: 'personal', limit: 1000})
      .reply(200, {databases: [db({endpoints: {mad: 'redis://x'}, processes: []})], nextCursor: null});
    const {stdout, stderr, exitCode} = await run(RedisList, ['--org', 'personal', '--json']);
    expect(exitCode).toBe(0);
    expect(stderr).toBe('');
    const doc = JSON.parse(stdout);
    expect(doc).toHaveLength(1);
    expect(Object.keys(doc[0]).sort()).toEqual([...DB_KEYS].sort());
    scope.done();
  });

  it('--json prints [] when there is nothing', async () => {
    const scope = api().get('/v1/databases').query({limit: 1000}).reply(200, {databases: [], nextCursor: null});
    const {stdout} = await run(RedisList, ['--json']);
    expect(JSON.parse(stdout)).toEqual([]);
    scope.done();
  });

  it('is also reachable as ls', () => {
    expect(RedisList.aliases).toContain('redis:ls');
  });
});
