import '../../helpers/oclif-env';
import * as fs from 'node:fs';
import * as path from 'node:path';
import RedisConnect from '../../../../src/commands/redis/connect';
import {api, db, run, useFakeApi} from '../../helpers/harness';

describe('redis connect', () => {
  const {home} = useFakeApi();

  /** A stand-in redis-cli that records how it was called. */
  function fakeRedisCli(exitCode = 0): string {
    const file = path.join(home(), 'redis-cli');
    fs.writeFileSync(
      file,
      `#!/bin/sh\nprintf '%s\\n' "$@" > "${home()}/args"\nprintf '%s' "$REDISCLI_AUTH" > "${home()}/auth"\nexit ${exitCode}\n`,
      {mode: 0o755},
    );
    return file;
  }

  it('runs redis-cli on the primary, the password in REDISCLI_AUTH rather than on the command line', async () => {
    process.env.REDFLY_REDIS_CLI = fakeRedisCli();
    const scope = api().get('/v1/databases/my-cache').reply(200, db({privateUrl: 'redis://default:s%40cret@127.0.0.1:7001'}));
    const {exitCode} = await run(RedisConnect, ['my-cache']);
    expect(exitCode).toBe(0);
    expect(fs.readFileSync(path.join(home(), 'args'), 'utf8')).toBe('-u\nredis://127.0.0.1:7001\n');
    expect(fs.readFileSync(path.join(home(), 'auth'), 'utf8')).toBe('s@cret');
    scope.done();
  });

  it('without a name at a terminal, offers the databases to choose from (issue 13)', async () => {
    process.env.REDFLY_REDIS_CLI = fakeRedisCli();
    const prompts = await import('../../../../src/cli/prompts');
    const select = jest.spyOn(prompts, 'select').mockResolvedValue('zzzzzzzzzzzzzzz');
    const scope = api()
      .get('/v1/databases').query({limit: 1000})
      .reply(200, {databases: [db(), db({id: 'zzzzzzzzzzzzzzz', name: 'other', privateUrl: 'redis://default:p@127.0.0.1:7009'})], nextCursor: null});
    const {exitCode} = await run(RedisConnect, [], {interactive: true});
    expect(exitCode).toBe(0);
    const choices = (select.mock.calls[0][0] as {choices: {name: string}[]}).choices.map((c) => c.name);
    expect(choices).toEqual(['my-cache (personal, mad)', 'other (personal, mad)']);
    expect(fs.readFileSync(path.join(home(), 'args'), 'utf8')).toBe('-u\nredis://127.0.0.1:7009\n');
    select.mockRestore();
    scope.done();
  });

  it('without a name and without a terminal: exit 2 naming the missing database, no request', async () => {
    const {stderr, exitCode} = await run(RedisConnect, []);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('Missing argument: the database id or name');
  });

  it('--region picks that region\'s endpoint; an unknown one lists the database\'s regions', async () => {
    process.env.REDFLY_REDIS_CLI = fakeRedisCli();
    const withEndpoints = db({readRegions: ['ams'], endpoints: {mad: 'redis://default:p@10.0.0.1:1', ams: 'redis://default:p@10.0.0.2:2'}});
    const scope = api().get('/v1/databases/my-cache').twice().reply(200, withEndpoints);
    expect((await run(RedisConnect, ['my-cache', '-r', 'ams'])).exitCode).toBe(0);
    expect(fs.readFileSync(path.join(home(), 'args'), 'utf8')).toBe('-u\nredis://10.0.0.2:2\n');
    const bad = await run(RedisConnect, ['my-cache', '-r', 'syd']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('my-cache has no copy in region "syd". Its regions: mad, ams');
    scope.done();
  });

  it('--region never falls back to a replica\'s own redis-server port, which the password cannot open', async () => {
    process.env.REDFLY_REDIS_CLI = fakeRedisCli();
    const noEndpoints = db({
      readRegions: ['ams'],
      processes: [
        {region: 'mad', role: 'primary', port: 7001, state: 'running', restarts: 0, lastExit: null},
        {region: 'ams', role: 'replica', port: 7002, state: 'running', restarts: 0, lastExit: null},
      ],
    });
    const scope = api().get('/v1/databases/my-cache').reply(200, noEndpoints);
    const r = await run(RedisConnect, ['my-cache', '-r', 'ams']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('my-cache has no endpoint in region "ams"');
    expect(fs.existsSync(path.join(home(), 'args'))).toBe(false);
    scope.done();
  });

  it('passes redis-cli\'s exit status on', async () => {
    process.env.REDFLY_REDIS_CLI = fakeRedisCli(3);
    const scope = api().get('/v1/databases/my-cache').reply(200, db());
    expect((await run(RedisConnect, ['my-cache'])).exitCode).toBe(3);
    scope.done();
  });

  it('without redis-cli: says how to install it and prints the URL', async () => {
    process.env.REDFLY_REDIS_CLI = path.join(home(), 'no-such-redis-cli');
    const scope = api().get('/v1/databases/my-cache').reply(200, db());
    const {stdout, stderr, exitCode} = await run(RedisConnect, ['my-cache']);
    expect(exitCode).toBe(1);
    expect(stdout).toBe('redis://default:secret@127.0.0.1:7001\n');
    expect(stderr).toContain('redis-cli was not found in your PATH');
    expect(stderr).toContain('sudo apt-get install redis-tools');
    expect(stderr).toContain('brew install redis');
    scope.done();
  });
});
