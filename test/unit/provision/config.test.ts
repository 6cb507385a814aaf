// REDFLY_REDIS_HZ: the `hz` of every database's redis-server, for hosts with many databases.
import {redisHzFromEnv, renderConfig} from '../../../src/provision/config';

const base = {port: 21000, dir: '/tmp/x', internalSecret: 's', maxmemoryBytes: 1 << 20, eviction: false};

test('the config has no hz line (Redis default 10) unless one is given', () => {
  expect(renderConfig(base)).not.toMatch(/^hz /m);
  expect(renderConfig({...base, hz: 1})).toMatch(/^hz 1$/m);
});

test('REDFLY_REDIS_HZ is an integer from 1 to 500; anything else is refused by name', () => {
  expect(redisHzFromEnv({})).toBeUndefined();
  expect(redisHzFromEnv({REDFLY_REDIS_HZ: ''})).toBeUndefined();
  expect(redisHzFromEnv({REDFLY_REDIS_HZ: '1'})).toBe(1);
  expect(redisHzFromEnv({REDFLY_REDIS_HZ: '500'})).toBe(500);
  for (const bad of ['0', '501', '2.5', 'fast']) {
    expect(() => redisHzFromEnv({REDFLY_REDIS_HZ: bad})).toThrow(`REDFLY_REDIS_HZ must be an integer from 1 to 500, not ${JSON.stringify(bad)}`);
  }
});
