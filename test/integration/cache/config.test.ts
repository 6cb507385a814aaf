import {cacheConfigFromEnv, parseDuration, parseSize} from '../../../src/cache/config';

test('sizes and durations read the way an operator writes them', () => {
  expect(parseSize('64mb')).toBe(64 * 1024 * 1024);
  expect(parseSize('1.5 GB')).toBe(1.5 * 1024 ** 3);
  expect(parseSize('4096')).toBe(4096);
  expect(parseDuration('1h')).toBe(3_600_000);
  expect(parseDuration('30s')).toBe(30_000);
  expect(parseDuration('250')).toBe(250);
});

test('the environment sets the backlog bounds, memory and durability', () => {
  expect(
    cacheConfigFromEnv({
      REDFLY_CACHE_MAXMEMORY: '32mb',
      REDFLY_CACHE_BACKLOG_MAX_AGE: '10m',
      REDFLY_CACHE_BACKLOG_MAX_BYTES: '1gb',
      REDFLY_CACHE_DURABILITY: 'machine',
    }),
  ).toEqual({maxmemoryBytes: 32 * 1024 ** 2, backlogMaxAgeMs: 600_000, backlogMaxBytes: 1024 ** 3, durability: 'machine'});
  expect(cacheConfigFromEnv({})).toEqual({});
});

test('a value that cannot be read names its variable', () => {
  expect(() => cacheConfigFromEnv({REDFLY_CACHE_BACKLOG_MAX_AGE: 'soon'})).toThrow('REDFLY_CACHE_BACKLOG_MAX_AGE: invalid duration "soon"');
  expect(() => cacheConfigFromEnv({REDFLY_CACHE_DURABILITY: 'disk'})).toThrow('REDFLY_CACHE_DURABILITY');
});
