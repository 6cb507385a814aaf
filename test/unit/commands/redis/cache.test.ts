import '../../helpers/oclif-env';
import * as http from 'node:http';
import type {AddressInfo} from 'node:net';
import nock from 'nock';
import * as fs from 'node:fs';
import * as path from 'node:path';
import RedisCacheEnv from '../../../../src/commands/redis/cache/env';
import RedisCacheStatus from '../../../../src/commands/redis/cache/status';
import RedisCacheUrl from '../../../../src/commands/redis/cache/url';
import {API, api, apiError, ORGS, run, useFakeApi} from '../../helpers/harness';

const URL_MAD = 'redis://default:cachepw@127.0.0.1:41001';
const URL_AMS = 'redis://default:cachepw@127.0.0.1:41002';
const INFO = {
  org: 'personal',
  regions: [
    {region: 'mad', url: URL_MAD, env: [`FLY_REDIS_CACHE_URL=${URL_MAD}`, `REDFLY_CACHE_URL=${URL_MAD}`]},
    {region: 'ams', url: URL_AMS, env: [`FLY_REDIS_CACHE_URL=${URL_AMS}`, `REDFLY_CACHE_URL=${URL_AMS}`]},
  ],
};

const region = (over: Record<string, unknown>) => ({
  region: 'mad',
  state: 'live',
  keys: 1200,
  memoryBytes: 2 * 1024 * 1024,
  maxmemoryBytes: 64 * 1024 * 1024,
  appliedSeq: 50,
  lagEntries: 0,
  lagMs: 0,
  dropped: 0,
  replayErrors: 0,
  lastReplayError: null,
  ...over,
});
const STATUS = {
  org: 'personal',
  lastSeq: 50,
  backlog: {entries: 50, bytes: 4096, maxBytes: 268435456, maxAgeMs: 3600000, trimmed: 0},
  regions: [
    region({}),
    region({region: 'ams', state: 'catching-up', keys: 1100, appliedSeq: 38, lagEntries: 12, lagMs: 340, dropped: 3}),
    region({region: 'syd', state: 'idle', keys: null, memoryBytes: null, appliedSeq: 0}),
  ],
};

describe('redis cache url', () => {
  useFakeApi();

  it('prints the URL of the region, nothing else on stdout', async () => {
    const scope = api().get('/v1/orgs/acme/cache').reply(200, {...INFO, org: 'acme'});
    const {stdout, stderr, exitCode} = await run(RedisCacheUrl, ['--org', 'acme', '--region', 'ams']);
    expect(exitCode).toBe(0);
    expect(stdout).toBe(`${URL_AMS}\n`);
    expect(stderr).toBe('');
    scope.done();
  });

  it('selects the only organization of the token and says so on stderr', async () => {
    const scope = api().get('/v1/orgs').reply(200, ORGS).get('/v1/orgs/personal/cache').reply(200, INFO);
    const {stdout, stderr, exitCode} = await run(RedisCacheUrl, ['--region', 'mad']);
    expect(exitCode).toBe(0);
    expect(stdout).toBe(`${URL_MAD}\n`);
    expect(stderr).toContain('Automatically selected organization Personal (personal)');
    scope.done();
  });

  it('--json: one document', async () => {
    const scope = api().get('/v1/orgs').reply(200, ORGS).get('/v1/orgs/personal/cache').reply(200, INFO);
    const {stdout, exitCode} = await run(RedisCacheUrl, ['--region', 'mad', '--json']);
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout)).toEqual({org: 'personal', region: 'mad', url: URL_MAD});
    scope.done();
  });

  it('a rediss:// URL: stdout the URL alone, the CA on stderr; --json carries it', async () => {
    const tls = {caFile: '/srv/redfly/tls/ca.pem', caPem: '-----BEGIN CERTIFICATE-----'};
    const secure = {org: 'acme', regions: [{region: 'ams', url: 'rediss://default:pw@gw:41002', env: ['FLY_REDIS_CACHE_URL=rediss://default:pw@gw:41002']}], tls};
    const scope = api().get('/v1/orgs/acme/cache').times(2).reply(200, secure);
    const text = await run(RedisCacheUrl, ['--org', 'acme', '--region', 'ams']);
    expect(text.stdout).toBe('rediss://default:pw@gw:41002\n');
    expect(text.stderr).toContain('redis-cli --tls --cacert /srv/redfly/tls/ca.pem');
    const doc = await run(RedisCacheUrl, ['--org', 'acme', '--region', 'ams', '--json']);
    expect(JSON.parse(doc.stdout).tls).toEqual(tls);
    scope.done();
  });

  it('several organizations and no terminal: a missing --org is named', async () => {
    const scope = api().get('/v1/orgs').reply(200, [...ORGS, {...ORGS[0], slug: 'acme', name: 'Acme', type: 'shared'}]);
    const {stderr, exitCode} = await run(RedisCacheUrl, ['--region', 'mad']);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('Missing flag --org');
    scope.done();
  });

  it('an unknown region is a usage error listing the valid codes', async () => {
    const scope = api().get('/v1/orgs/acme/cache').reply(200, INFO);
    const {stderr, exitCode} = await run(RedisCacheUrl, ['--org', 'acme', '--region', 'xyz']);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('Unknown region "xyz". Valid region codes: mad, ams');
    scope.done();
  });

  it('without a terminal, a missing --region is named, with exit code 2', async () => {
    const scope = api().get('/v1/orgs/acme/cache').reply(200, INFO);
    const {stdout, exitCode} = await run(RedisCacheUrl, ['--org', 'acme', '--json']);
    expect(exitCode).toBe(2);
    expect(JSON.parse(stdout)).toEqual({error: {code: 'missing_flags', message: expect.stringContaining('--region')}});
    scope.done();
  });

  it('REDFLY_ORG and REDFLY_REGION stand in for the flags', async () => {
    process.env.REDFLY_ORG = 'acme';
    process.env.REDFLY_REGION = 'mad';
    const scope = api().get('/v1/orgs/acme/cache').reply(200, INFO);
    const {stdout, exitCode} = await run(RedisCacheUrl, []);
    expect(exitCode).toBe(0);
    expect(stdout).toBe(`${URL_MAD}\n`);
    scope.done();
  });

  it("an organization the token cannot see: the server's 404 message and exit 1", async () => {
    const scope = api().get('/v1/orgs/other/cache').reply(404, apiError('not_found', 'organization other not found'));
    const {stderr, exitCode} = await run(RedisCacheUrl, ['--org', 'other', '--region', 'mad']);
    expect(exitCode).toBe(1);
    expect(stderr).toContain('organization other not found');
    scope.done();
  });
});

describe('every missing input at once (issue 13)', () => {
  useFakeApi();
  const TWO_ORGS = [...ORGS, {...ORGS[0], slug: 'acme', name: 'Acme', type: 'shared'}];

  it.each([
    ['env', RedisCacheEnv, ['--org', '--region']],
    ['url', RedisCacheUrl, ['--org', '--region']],
    ['status', RedisCacheStatus, ['--org']],
  ] as const)('redis cache %s without a terminal names %j in one error, with a runnable hint', async (_name, Cmd, flags) => {
    const scope = api().get('/v1/orgs').reply(200, TWO_ORGS);
    const {stderr, exitCode} = await run(Cmd, ['--json'].slice(1));
    expect(exitCode).toBe(2);
    expect(stderr).toContain(`Missing ${flags.length > 1 ? 'flags' : 'flag'} ${flags.join(', ')}`);
    expect(stderr).toContain('--org personal');
    scope.done();
  });

  it('the region prompt lists names, nearest to the last used region first, as create does', async () => {
    const {REGIONS} = await import('../../helpers/harness');
    const prompts = await import('../../../../src/cli/prompts');
    const select = jest.spyOn(prompts, 'select').mockResolvedValue('ams');
    fs.writeFileSync(path.join(process.env.REDFLY_HOME!, 'cli-state.json'), JSON.stringify({lastRegion: 'mad'}));
    const scope = api()
      .get('/v1/orgs/personal/cache').reply(200, {...INFO, regions: [...INFO.regions, {...INFO.regions[0], region: 'syd'}]})
      .get('/v1/regions').reply(200, REGIONS);
    const {stdout, exitCode} = await run(RedisCacheUrl, ['--org', 'personal'], {interactive: true});
    expect(exitCode).toBe(0);
    expect(stdout).toBe(`${URL_AMS}\n`);
    const choices = (select.mock.calls[0][0] as {choices: {name: string}[]}).choices.map((c) => c.name);
    expect(choices).toEqual(['Madrid, Spain (mad)', 'Amsterdam, Netherlands (ams)', 'Sydney, Australia (syd)']);
    select.mockRestore();
    scope.done();
  });
});

describe('redis cache env', () => {
  useFakeApi();

  it('prints FLY_REDIS_CACHE_URL and its REDFLY_ twin', async () => {
    const scope = api().get('/v1/orgs/personal/cache').reply(200, INFO);
    const {stdout, exitCode} = await run(RedisCacheEnv, ['--org', 'personal', '--region', 'mad']);
    expect(exitCode).toBe(0);
    expect(stdout).toBe(`FLY_REDIS_CACHE_URL=${URL_MAD}\nREDFLY_CACHE_URL=${URL_MAD}\n`);
    scope.done();
  });

  it('--json: the variables as an object', async () => {
    const scope = api().get('/v1/orgs/personal/cache').reply(200, INFO);
    const {stdout, exitCode} = await run(RedisCacheEnv, ['-o', 'personal', '-r', 'ams', '--json']);
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout)).toEqual({org: 'personal', region: 'ams', env: {FLY_REDIS_CACHE_URL: URL_AMS, REDFLY_CACHE_URL: URL_AMS}});
    scope.done();
  });
});

describe('redis cache status', () => {
  useFakeApi();

  it('a table of the regions in use, with lag and dropped entries, and the backlog', async () => {
    const scope = api().get('/v1/orgs/personal/cache/status').reply(200, STATUS);
    const {stdout, exitCode} = await run(RedisCacheStatus, ['--org', 'personal']);
    expect(exitCode).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual(['REGION', 'STATE', 'KEYS', 'MEMORY', 'REPLAY LAG', 'DROPPED', 'REPLAY ERRORS']);
    expect(lines[1].split(/\s{2,}/)).toEqual(['mad', 'live', '1,200', '2 MB of 64 MB', 'none', '0', '0']);
    expect(lines[2].split(/\s{2,}/)).toEqual(['ams', 'catching-up', '1,100', '2 MB of 64 MB', '12 entries, 340 ms', '3', '0']);
    expect(stdout).not.toMatch(/^syd/m);
    expect(stdout).toContain('Database 1: 50 commands accepted; backlog 50 entries, 4 KB of 256 MB, kept up to 60 min');
    expect(stdout).toContain('1 other region idle');
    scope.done();
  });

  it('--json: the status document, every region included', async () => {
    const scope = api().get('/v1/orgs/personal/cache/status').reply(200, STATUS);
    const {stdout, exitCode} = await run(RedisCacheStatus, ['--org', 'personal', '--json']);
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout)).toEqual(STATUS);
    scope.done();
  });

  it('401 from the server: exit 1 with its message', async () => {
    const scope = api().get('/v1/orgs/personal/cache/status').reply(401, apiError('unauthorized', 'invalid access token'));
    const {stderr, exitCode} = await run(RedisCacheStatus, ['--org', 'personal']);
    expect(exitCode).toBe(1);
    expect(stderr).toContain('invalid access token');
    scope.done();
  });
});

describe.each([
  ['redis cache url', RedisCacheUrl, ['--org', 'personal', '--region', 'mad']],
  ['redis cache env', RedisCacheEnv, ['--org', 'personal', '--region', 'mad']],
  ['redis cache status', RedisCacheStatus, ['--org', 'personal']],
] as const)('%s when the server fails', (_name, Cmd, argv) => {
  useFakeApi();

  it('500: the server message with its request id, exit 1; --json: one error document', async () => {
    nock(API).persist().get(/.*/).reply(500, apiError('internal', 'disk full'));
    const plain = await run(Cmd, [...argv]);
    expect(plain.exitCode).toBe(1);
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toContain('disk full (request id req-test)');
    const json = await run(Cmd, [...argv, '--json']);
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({error: {code: 'internal', message: expect.stringContaining('disk full')}});
  });

  it('network down: names the URL it could not reach, exit 1', async () => {
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await new Promise<void>((r) => server.close(() => r()));
    nock.enableNetConnect('127.0.0.1');
    process.env.REDFLY_API_URL = url;
    const result = await run(Cmd, [...argv]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`Could not reach the redfly API at ${url} (connection refused)`);
  });
});
