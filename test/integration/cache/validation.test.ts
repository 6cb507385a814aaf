// Everything that can fail is refused before +OK, and what is refused is never replayed.
import {CACHE_UNSUPPORTED} from '../../../src/cache';
import {useOrgCache, send} from './helpers';

const ORG = 'valid';
const t = useOrgCache(ORG, {maxCommandBytes: 1024 * 1024});

// Arguments that pass the arity check, so the refusal is about the command itself.
const SAMPLE_ARGS: Record<string, string[]> = {
  subscribe: ['ch'], psubscribe: ['ch*'], unsubscribe: [], punsubscribe: [], publish: ['ch', 'm'],
  pubsub: ['CHANNELS'], multi: [], exec: [], discard: [], move: ['k', '0'], randomkey: [],
  sort: ['k'], dbsize: [], time: [], client: ['LIST'], config: ['GET', 'maxmemory'], monitor: [],
  slowlog: ['GET'], swapdb: ['0', '1'], memory: ['USAGE', 'k'], lolwut: [], eval: ['return 1', '0'],
  evalsha: ['abc', '0'], script: ['FLUSH'], flushdb: [], geoadd: ['g', '1', '2', 'm'], geohash: ['g', 'm'],
  geopos: ['g', 'm'], geodist: ['g', 'a', 'b'], georadius: ['g', '1', '2', '3', 'km'],
  georadiusbymember: ['g', 'm', '3', 'km'], georadius_ro: ['g', '1', '2', '3', 'km'],
  georadiusbymember_ro: ['g', 'm', '3', 'km'], geosearch: ['g', 'FROMMEMBER', 'm', 'BYRADIUS', '1', 'km', 'ASC'],
  geosearchstore: ['d', 'g', 'FROMMEMBER', 'm', 'BYRADIUS', '1', 'km'],
};

test.each([...CACHE_UNSUPPORTED])('%s is refused with an error that names it, and not replayed', async (name) => {
  const seq = t.cache.lastSeq(ORG);
  const reply = await send(t.cache, ORG, 'mad', name.toUpperCase(), ...(SAMPLE_ARGS[name] ?? []));
  expect(reply).toMatch(/^-ERR /);
  expect(reply).toContain(`'${name.toUpperCase()}'`);
  expect(t.cache.lastSeq(ORG)).toBe(seq);
});

test.each([
  [['SET', 'k'], "-ERR wrong number of arguments for 'set' command"],
  [['GET'], "-ERR wrong number of arguments for 'get' command"],
  [['HSET', 'h', 'f'], "-ERR wrong number of arguments for 'hset' command"],
  [['NOSUCHCMD', 'a', 'b'], "-ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' "],
  [['XGROUP', 'NOPE'], "-ERR unknown subcommand 'NOPE'. Try XGROUP HELP."],
  [['XGROUP', 'CREATE', 's'], "-ERR wrong number of arguments for 'xgroup|create' command"],
  [['SET', 'k', 'v', 'EX', 'soon'], '-ERR value is not an integer or out of range'],
  [['SET', 'k', 'v', 'EX', '0'], "-ERR invalid expire time in 'set' command"],
  [['SET', 'k', 'v', 'NX', 'XX'], '-ERR syntax error'],
  [['SET', 'k', 'v', 'EX', '10', 'PX', '10'], '-ERR syntax error'],
  [['SET', 'k', 'v', 'BOGUS'], '-ERR syntax error'],
  [['SETEX', 'k', '-5', 'v'], "-ERR invalid expire time in 'setex' command"],
  [['EXPIRE', 'k', 'later'], '-ERR value is not an integer or out of range'],
  [['EXPIRE', 'k', '10', 'NX', 'XX'], '-ERR NX and XX, GT or LT options at the same time are not compatible'],
  [['EXPIRE', 'k', '99999999999999999'], "-ERR invalid expire time in 'expire' command"],
  [['INCRBY', 'k', 'one'], '-ERR value is not an integer or out of range'],
  [['ZADD', 'z', 'high', 'm'], '-ERR value is not a valid float'],
  [['XADD', 's', '*', 'f'], "-ERR wrong number of arguments for 'xadd' command"],
  [['HSET', 'h', 'f1', 'v1', 'f2'], "-ERR wrong number of arguments for 'hset' command"],
  [['MSET', 'a', '1', 'b'], "-ERR wrong number of arguments for 'mset' command"],
  [['LINSERT', 'l', 'MIDDLE', 'p', 'v'], '-ERR syntax error'],
  [['SETBIT', 'b', '7', '2'], '-ERR bit is not an integer or out of range'],
  [['FLUSHALL', 'LATER'], '-ERR syntax error'],
  [['COPY', 'a', 'b', 'DB', '1'], "-ERR Command is not available in database 1: 'COPY' (only database 0 is replayed; COPY ... DB is refused)"],
])('malformed %j gets an error and is not replayed', async (args, error) => {
  const seq = t.cache.lastSeq(ORG);
  expect(await send(t.cache, ORG, 'ams', ...args)).toBe(error);
  expect(t.cache.lastSeq(ORG)).toBe(seq);
});

test.each([
  ['SPOP', 's'],
  ['XAUTOCLAIM', 's', 'g', 'c', '0', '0'],
  ['XCLAIM', 's', 'g', 'c', '0', '1-1'],
  ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '>'],
  ['FLUSHALL', 'ASYNC', 'EXTRA'],
])('%s: a command whose effect would differ between regions (or is malformed) is refused', async (...args) => {
  const seq = t.cache.lastSeq(ORG);
  const reply = await send(t.cache, ORG, 'syd', ...args);
  expect(reply).toMatch(/^-ERR /);
  expect(t.cache.lastSeq(ORG)).toBe(seq);
});

test('server management, transactions and scripts are refused in database 1', async () => {
  const seq = t.cache.lastSeq(ORG);
  for (const args of [['WATCH', 'k'], ['FCALL', 'f', '0'], ['FUNCTION', 'FLUSH'], ['DEBUG', 'SLEEP', '0'], ['SHUTDOWN'], ['ACL', 'SETUSER', 'x'], ['SSUBSCRIBE', 'c']]) {
    const reply = await send(t.cache, ORG, 'mad', ...args);
    expect(reply).toMatch(/^-ERR /);
    expect(reply).toContain(`'${args[0]}'`);
  }
  expect(t.cache.lastSeq(ORG)).toBe(seq);
});

test('INFO (sent by clients while connecting) is acknowledged and not replayed', async () => {
  const seq = t.cache.lastSeq(ORG);
  expect(await send(t.cache, ORG, 'mad', 'INFO')).toBe('+OK');
  expect(await send(t.cache, ORG, 'mad', 'INFO', 'server')).toBe('+OK');
  expect(t.cache.lastSeq(ORG)).toBe(seq);
});

test('a command larger than the size limit is refused with the hosted service\'s text', async () => {
  const big = Buffer.alloc(1024 * 1024 + 1, 'x');
  expect(await send(t.cache, ORG, 'mad', 'SET', 'big', big)).toBe(
    `-ERR max request size exceeded. Limit: 1048576 bytes, Actual: ${big.length + 6} bytes`,
  );
});

test('after refusals, the next well-formed command is still replayed everywhere', async () => {
  const seq = t.cache.lastSeq(ORG);
  expect(await send(t.cache, ORG, 'mad', 'SET', 'k', 'v', 'EX', '100')).toBe('+OK');
  expect(t.cache.lastSeq(ORG)).toBe(seq + 1);
  await t.cache.waitApplied(ORG);
  expect(await t.regions.each((c) => c.get('k'))).toEqual({mad: 'v', ams: 'v', syd: 'v'});
  // Nothing refused above left a trace in any region.
  expect(await t.regions.each((c) => c.dbsize())).toEqual({mad: 1, ams: 1, syd: 1});
  const s = await t.cache.status(ORG);
  expect(s.regions.every((r) => r.replayErrors === 0)).toBe(true);
});
