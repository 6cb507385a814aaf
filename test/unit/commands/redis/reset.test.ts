import '../../helpers/oclif-env';
import RedisReset from '../../../../src/commands/redis/reset';
import {api, db, DB_KEYS, run, useFakeApi} from '../../helpers/harness';

describe('redis reset', () => {
  useFakeApi();

  it('prints the new URL', async () => {
    const scope = api()
      .post('/v1/databases/my-cache/reset-password')
      .reply(200, db({privateUrl: 'redis://default:new@127.0.0.1:7001'}));
    const {stdout, exitCode} = await run(RedisReset, ['my-cache']);
    expect(exitCode).toBe(0);
    expect(stdout).toBe(
      'New password set for my-cache; the old one no longer works.\nURL: redis://default:new@127.0.0.1:7001\n',
    );
    scope.done();
  });

  it('--json prints the database document with the new URL', async () => {
    const scope = api().post('/v1/databases/my-cache/reset-password').reply(200, db({privateUrl: 'redis://default:new@h:1'}));
    const {stdout} = await run(RedisReset, ['my-cache', '--json']);
    const doc = JSON.parse(stdout);
    expect(Object.keys(doc).sort()).toEqual([...DB_KEYS].sort());
    expect(doc.privateUrl).toBe('redis://default:new@h:1');
    scope.done();
  });
});
