// The REST API as a user meets it: the built CLI prints the URL and tokens, an app using
// @upstash/redis runs against them in every region, and `redis reset` rotates the tokens.
import * as fs from 'node:fs';
import {Redis} from '@upstash/redis';
import {assertBuilt, cliEnv, ok, redfly, startServer, stopServer, tempHome} from './helpers';

let home: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  assertBuilt();
  home = tempHome();
  env = cliEnv(home);
  await startServer(home);
}, 60_000);

afterAll(async () => {
  if (home) {
    await stopServer(home);
    fs.rmSync(home, {recursive: true, force: true});
  }
}, 60_000);

const run = (args: string[]) => redfly(args, {env});

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

test('create prints the REST URL and tokens; an app reads and writes in every region; reset rotates the tokens', async () => {
  const db = JSON.parse(ok(await run(['redis', 'create', '--org', 'personal', '--name', 'rest-e2e', '-r', 'mad', '--replica-regions', 'ams', '--plan', 'free', '--json'])).stdout);
  expect(db.restUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(db.restToken).toMatch(/^rfr_/);
  expect(db.readOnlyRestToken).toMatch(/^rfro_/);

  const status = JSON.parse(ok(await run(['redis', 'status', 'rest-e2e', '--json'])).stdout);
  expect(status).toMatchObject({restUrl: db.restUrl, restToken: db.restToken, readOnlyRestToken: db.readOnlyRestToken});
  expect(Object.keys(status.restEndpoints).sort()).toEqual(['ams', 'mad']);

  // The lines an app pastes into its environment, then Redis.fromEnv() as the SDK documents.
  const primaryEnv = parseEnv(ok(await run(['redis', 'status', 'rest-e2e', '--env'])).stdout);
  expect(primaryEnv).toEqual({UPSTASH_REDIS_REST_URL: db.restUrl, UPSTASH_REDIS_REST_TOKEN: db.restToken});
  const amsEnv = parseEnv(ok(await run(['redis', 'env', 'rest-e2e', '--region', 'ams'])).stdout);
  expect(amsEnv.UPSTASH_REDIS_REST_URL).toBe(status.restEndpoints.ams);
  const roEnv = parseEnv(ok(await run(['redis', 'env', 'rest-e2e', '--read-only'])).stdout);
  expect(roEnv.UPSTASH_REDIS_REST_TOKEN).toBe(db.readOnlyRestToken);
  const badRegion = await run(['redis', 'env', 'rest-e2e', '--region', 'syd']);
  expect(badRegion.exitCode).toBe(2);
  expect(badRegion.stderr).toContain('not in region syd');

  const saved = {...process.env};
  Object.assign(process.env, primaryEnv);
  const writer = Redis.fromEnv({retry: false});
  Object.assign(process.env, saved);
  await writer.set('greeting', 'hello from mad');
  const reader = new Redis({url: amsEnv.UPSTASH_REDIS_REST_URL, token: amsEnv.UPSTASH_REDIS_REST_TOKEN, retry: false});
  reader.readYourWritesSyncToken = writer.readYourWritesSyncToken;
  expect(await reader.get('greeting')).toBe('hello from mad');
  // The same commands and counters as the RESP side: both show in the database's stats.
  const stats = JSON.parse(ok(await run(['redis', 'status', 'rest-e2e', '--json'])).stdout);
  expect(stats.usage.commandsToday.used).toBeGreaterThanOrEqual(2);

  const ro = new Redis({url: db.restUrl, token: db.readOnlyRestToken, retry: false});
  await expect(ro.set('greeting', 'x')).rejects.toThrow(/NOPERM/);

  const reset = JSON.parse(ok(await run(['redis', 'reset', 'rest-e2e', '--json'])).stdout);
  expect(reset.restToken).not.toBe(db.restToken);
  expect(reset.readOnlyRestToken).not.toBe(db.readOnlyRestToken);
  await expect(writer.get('greeting')).rejects.toThrow(/WRONGPASS/);
  await expect(ro.get('greeting')).rejects.toThrow(/WRONGPASS/);
  const after = new Redis({url: reset.restUrl, token: reset.restToken, retry: false});
  expect(await after.get('greeting')).toBe('hello from mad');

  ok(await run(['redis', 'delete', 'rest-e2e', '--yes', '--json']));
  await expect(after.get('greeting')).rejects.toThrow(/WRONGPASS/);
}, 120_000);

test('the regional cache: database 0 over REST in each region, region-local, no transactions', async () => {
  const mad = JSON.parse(ok(await run(['redis', 'cache', 'env', '--org', 'personal', '--region', 'mad', '--rest', '--json'])).stdout).env;
  const ams = JSON.parse(ok(await run(['redis', 'cache', 'env', '--org', 'personal', '--region', 'ams', '--rest', '--json'])).stdout).env;
  expect(mad.UPSTASH_REDIS_REST_TOKEN).toMatch(/^rfc_/);
  expect(ams.UPSTASH_REDIS_REST_URL).not.toBe(mad.UPSTASH_REDIS_REST_URL);
  const lines = ok(await run(['redis', 'cache', 'env', '--org', 'personal', '--region', 'mad', '--rest', '--read-only'])).stdout;
  expect(lines).toMatch(/^UPSTASH_REDIS_REST_URL=http:.*\nUPSTASH_REDIS_REST_TOKEN=rfcro_/);

  const inMad = new Redis({url: mad.UPSTASH_REDIS_REST_URL, token: mad.UPSTASH_REDIS_REST_TOKEN, retry: false});
  const inAms = new Redis({url: ams.UPSTASH_REDIS_REST_URL, token: ams.UPSTASH_REDIS_REST_TOKEN, retry: false});
  expect(await inMad.set('page', 'cached in mad', {ex: 60})).toBe('OK');
  expect(await inMad.get('page')).toBe('cached in mad');
  expect(await inAms.get('page')).toBeNull(); // region-local, like the RESP cache
  // The cache's refusals hold over REST too.
  await expect(inMad.randomkey()).rejects.toThrow("ERR Command is not available on the regional cache: 'RANDOMKEY'");
  const tx = inMad.multi();
  tx.set('a', 1);
  await expect(tx.exec()).rejects.toThrow(/not available on the regional cache: 'MULTI'/);
}, 60_000);
