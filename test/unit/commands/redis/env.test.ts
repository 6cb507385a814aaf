import '../../helpers/oclif-env';
import RedisEnv from '../../../../src/commands/redis/env';
import RedisStatus from '../../../../src/commands/redis/status';
import {api, db, run, useFakeApi} from '../../helpers/harness';

const withRest = db({
  readRegions: ['ams'],
  restUrl: 'http://127.0.0.1:8001',
  restEndpoints: {mad: 'http://127.0.0.1:8001', ams: 'http://127.0.0.1:8002'},
  restToken: 'rfr_full',
  readOnlyRestToken: 'rfro_read',
});

describe('redis env / redis status --env', () => {
  useFakeApi();

  it('prints the lines @upstash/redis reads, for the primary region by default', async () => {
    api().get('/v1/databases/my-cache').reply(200, withRest);
    const {stdout, stderr, exitCode} = await run(RedisEnv, ['my-cache']);
    expect({stdout, stderr, exitCode}).toEqual({
      stdout: 'UPSTASH_REDIS_REST_URL=http://127.0.0.1:8001\nUPSTASH_REDIS_REST_TOKEN=rfr_full\n',
      stderr: '',
      exitCode: 0,
    });
  });

  it('--region and --read-only pick the region URL and the read-only token; --json', async () => {
    api().get('/v1/databases/my-cache').reply(200, withRest);
    const {stdout, exitCode} = await run(RedisEnv, ['my-cache', '-r', 'ams', '--read-only', '--json']);
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      id: withRest.id,
      name: 'my-cache',
      region: 'ams',
      readOnly: true,
      env: {UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:8002', UPSTASH_REDIS_REST_TOKEN: 'rfro_read'},
    });
  });

  it('a region the database is not in is a usage error naming its regions (exit 2)', async () => {
    api().get('/v1/databases/my-cache').reply(200, withRest);
    const {stdout, stderr, exitCode} = await run(RedisEnv, ['my-cache', '-r', 'syd']);
    expect(exitCode).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('database my-cache is not in region syd; its regions: mad, ams');
  });

  it('status --env prints only the lines, without asking for the stats', async () => {
    api().get('/v1/databases/my-cache').reply(200, withRest);
    const {stdout, exitCode} = await run(RedisStatus, ['my-cache', '--env']);
    expect(exitCode).toBe(0);
    expect(stdout).toBe('UPSTASH_REDIS_REST_URL=http://127.0.0.1:8001\nUPSTASH_REDIS_REST_TOKEN=rfr_full\n');
  });

  it('status shows the REST URL of each region and both tokens', async () => {
    api().get('/v1/databases/my-cache').reply(200, withRest).get('/v1/databases/my-cache/stats').reply(404, {});
    const {stdout, exitCode} = await run(RedisStatus, ['my-cache']);
    expect(exitCode).toBe(0);
    const rows = Object.fromEntries(stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/)));
    expect(rows).toMatchObject({
      'REST URL mad': 'http://127.0.0.1:8001',
      'REST URL ams': 'http://127.0.0.1:8002',
      'REST token': 'rfr_full',
      'Read-only REST token': 'rfro_read',
    });
  });
});
