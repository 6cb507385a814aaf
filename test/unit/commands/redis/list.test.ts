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

describe('redis list in a 60-column terminal (issue 13)', () => {
  useFakeApi();
  afterEach(() => jest.restoreAllMocks());

  it.each([true, false])('styled=%s: every line fits, ids whole, escape codes whole, one line per database', async (styled) => {
    const terminal = await import('../../../../src/cli/terminal');
    jest.spyOn(terminal, 'terminalWidth').mockReturnValue(60);
    jest.spyOn(terminal, 'stdoutIsStyled').mockReturnValue(styled);
    const scope = api()
      .get('/v1/databases')
      .query({limit: 1000})
      .reply(200, {
        databases: [
          db({name: 'late-waterfall-1133', status: 'failed', statusMessage: 'redis-server exited 3 times in a row'}),
          db({id: 'zzzzzzzzzzzzzzz', name: 'other', readRegions: ['ams', 'fra'], eviction: true}),
        ],
        nextCursor: null,
      });
    const {stdout, exitCode} = await run(RedisList, []);
    expect(exitCode).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line.replace(/\u001B\[(1|22)m/g, '').length).toBeLessThanOrEqual(60);
    expect(stdout.replace(/\u001B\[(1|22)m/g, '')).not.toMatch(/\u001B|\[\d*m/);
    expect(lines[1]).toContain('abcdefghijklmno');
    expect(lines[2]).toContain('zzzzzzzzzzzzzzz');
    expect(lines[1]).toContain('\u2026'); // the long status message, cut
    scope.done();
  });
});
