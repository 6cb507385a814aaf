// One suite applied to every command: what a user sees when the token is refused, the target
// is missing, the server fails, the network is down, or (without a terminal) inputs are missing.
import '../helpers/oclif-env';
import * as http from 'node:http';
import type {AddressInfo} from 'node:net';
import nock from 'nock';
import type {Command} from '@oclif/core';
import AuthLogin from '../../../src/commands/auth/login';
import AuthWhoami from '../../../src/commands/auth/whoami';
import OrgsCreate from '../../../src/commands/orgs/create';
import OrgsList from '../../../src/commands/orgs/list';
import RedisCacheEnv from '../../../src/commands/redis/cache/env';
import RedisCacheStatus from '../../../src/commands/redis/cache/status';
import RedisCacheUrl from '../../../src/commands/redis/cache/url';
import RedisConnect from '../../../src/commands/redis/connect';
import RedisCreate from '../../../src/commands/redis/create';
import RedisDashboard from '../../../src/commands/redis/dashboard';
import RedisDelete from '../../../src/commands/redis/delete';
import RedisList from '../../../src/commands/redis/list';
import RedisPlans from '../../../src/commands/redis/plans';
import RedisEnv from '../../../src/commands/redis/env';
import RedisProxy from '../../../src/commands/redis/proxy';
import RedisReset from '../../../src/commands/redis/reset';
import RedisStatus from '../../../src/commands/redis/status';
import RedisUpdate from '../../../src/commands/redis/update';
import RegionsList from '../../../src/commands/regions/list';
import TokensCreate from '../../../src/commands/tokens/create';
import TokensList from '../../../src/commands/tokens/list';
import TokensRevoke from '../../../src/commands/tokens/revoke';
import {API, apiError, run, useFakeApi} from '../helpers/harness';
import {COMMANDS} from '../helpers/source-commands';

interface Case {
  name: string;
  Cmd: typeof Command;
  argv: string[];
  json: boolean;
  /** argv that lacks required input when nobody can be asked, and the flags the error must name */
  missing?: {argv: string[]; flags: string[]};
}

const CASES: Case[] = [
  {
    name: 'redis create',
    Cmd: RedisCreate,
    argv: ['-o', 'personal', '-r', 'mad', '--no-replicas', '--plan', 'free'],
    json: true,
    missing: {argv: ['-o', 'personal'], flags: ['--region', '--replica-regions (or --no-replicas)', '--plan']},
  },
  {name: 'redis list', Cmd: RedisList, argv: [], json: true},
  {name: 'redis dashboard', Cmd: RedisDashboard, argv: ['my-cache', '--no-open'], json: true},
  {name: 'redis status', Cmd: RedisStatus, argv: ['my-cache'], json: true, missing: {argv: [], flags: ['database']}},
  {
    name: 'redis update',
    Cmd: RedisUpdate,
    argv: ['my-cache', '--plan', '200mb'],
    json: true,
    missing: {argv: ['my-cache'], flags: ['--replica-regions', '--plan', '--enable-eviction', '--disable-eviction']},
  },
  {
    name: 'redis delete',
    Cmd: RedisDelete,
    argv: ['my-cache', '--yes'],
    json: true,
    missing: {argv: ['my-cache'], flags: ['--yes']},
  },
  {name: 'redis plans', Cmd: RedisPlans, argv: [], json: true},
  {name: 'redis reset', Cmd: RedisReset, argv: ['my-cache'], json: true, missing: {argv: [], flags: ['database']}},
  {name: 'redis env', Cmd: RedisEnv, argv: ['my-cache'], json: true, missing: {argv: [], flags: ['database']}},
  {name: 'redis connect', Cmd: RedisConnect, argv: ['my-cache'], json: false, missing: {argv: [], flags: ['database']}},
  {name: 'redis proxy', Cmd: RedisProxy, argv: ['my-cache', '--port', '0'], json: true, missing: {argv: [], flags: ['database']}},
  {name: 'redis cache url', Cmd: RedisCacheUrl, argv: ['-o', 'personal', '-r', 'mad'], json: true},
  {name: 'redis cache env', Cmd: RedisCacheEnv, argv: ['-o', 'personal', '-r', 'mad'], json: true},
  {name: 'redis cache status', Cmd: RedisCacheStatus, argv: ['-o', 'personal'], json: true},
  {name: 'orgs list', Cmd: OrgsList, argv: [], json: true},
  {name: 'orgs create', Cmd: OrgsCreate, argv: ['acme'], json: true, missing: {argv: [], flags: ['slug']}},
  {name: 'regions list', Cmd: RegionsList, argv: [], json: true},
  {name: 'tokens create', Cmd: TokensCreate, argv: ['-o', 'personal'], json: true},
  {name: 'tokens list', Cmd: TokensList, argv: ['-o', 'personal'], json: true},
  {
    name: 'tokens revoke',
    Cmd: TokensRevoke,
    argv: ['tok_abc123def456', '--yes'],
    json: true,
    missing: {argv: ['tok_abc123def456'], flags: ['--yes']},
  },
  {name: 'auth whoami', Cmd: AuthWhoami, argv: [], json: true},
  {
    name: 'auth login',
    Cmd: AuthLogin,
    argv: ['--api-url', API, '--access-token', 'test-token'],
    json: true,
    missing: {argv: [], flags: ['--api-url', '--access-token']},
  },
];

/** The commands this suite leaves out, and why: none of them calls the API. */
const OUTSIDE: Record<string, string> = {
  autocomplete: '@oclif/plugin-autocomplete, loaded on use (test/e2e/plugins.test.ts)',
  'autocomplete:create': 'the same plugin (test/e2e/plugins.test.ts)',
  'autocomplete:script': 'the same plugin (test/e2e/plugins.test.ts)',
  'auth:logout': 'only removes the saved login (auth.test.ts)',
  'auth:token': 'only prints the saved token (auth.test.ts)',
  'server:start': 'runs the local server (test/integration/control/server-commands.test.ts)',
  'server:status': 'reads the local server (server-commands.test.ts)',
  'server:stop': 'stops the local server (server-commands.test.ts)',
};

it('covers every command of src/commands, or says why not', () => {
  const covered = [...CASES.map((c) => c.name.replace(/ /g, ':')), ...Object.keys(OUTSIDE)].sort();
  expect(covered).toEqual(Object.keys(COMMANDS).sort());
  for (const c of CASES) expect(c.Cmd).toBe(COMMANDS[c.name.replace(/ /g, ':')]);
});

/** Every request to the fake API gets the same answer; counts the requests made. */
function answerEverything(status: number, body: unknown) {
  const scope = nock(API).persist();
  for (const method of ['GET', 'POST', 'PATCH', 'DELETE']) scope.intercept(/.*/, method).reply(status, body);
  const seen = {requests: 0};
  scope.on('request', () => seen.requests++);
  return seen;
}

async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const {port} = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

describe.each(CASES)('$name', ({Cmd, argv, json, missing}) => {
  useFakeApi();
  const variants = json ? [false, true] : [false];

  describe.each(variants)('--json=%s', (withJson) => {
    const args = withJson ? [...argv, '--json'] : argv;

    const expectFailure = (result: {stdout: string; stderr: string; exitCode: number}, code: string, text: string, hint?: string) => {
      expect(result.exitCode).toBe(code === 'missing_flags' || code === 'invalid_usage' ? 2 : 1);
      if (withJson) {
        expect(JSON.parse(result.stdout)).toEqual({error: {code, message: expect.stringContaining(text)}});
      } else {
        expect(result.stdout).toBe('');
        expect(result.stderr).toContain(text);
        expect(result.stderr).toContain(`Code: ${code}`);
        if (hint) {
          expect(result.stderr).toContain('Try this:');
          expect(result.stderr).toContain(hint);
        }
      }
    };

    it('401: shows the server message and how to log in (exit 1)', async () => {
      const scope = answerEverything(401, apiError('unauthorized', 'missing or invalid access token'));
      expectFailure(await run(Cmd, args), 'unauthorized', 'missing or invalid access token', 'redfly auth login');
      expect(scope.requests).toBeGreaterThan(0);
    });

    it('404: shows the server message and where to look (exit 1)', async () => {
      const scope = answerEverything(404, apiError('not_found', 'database "my-cache" not found'));
      expectFailure(await run(Cmd, args), 'not_found', 'database "my-cache" not found', 'redfly redis list');
      expect(scope.requests).toBeGreaterThan(0);
    });

    it('500: shows the server message with its request id (exit 1)', async () => {
      const scope = answerEverything(500, apiError('internal', 'disk full'));
      expectFailure(await run(Cmd, args), 'internal', 'disk full (request id req-test)', 'try again in a moment');
      expect(scope.requests).toBeGreaterThan(0);
    });

    it('network down: names the URL it could not reach (exit 1)', async () => {
      const url = await closedPortUrl();
      nock.enableNetConnect('127.0.0.1');
      process.env.REDFLY_API_URL = url;
      const result = await run(Cmd, args.map((a) => (a === API ? url : a)));
      expectFailure(result, 'network_error', `Could not reach the redfly API at ${url} (connection refused)`);
    });

    if (missing) {
      it('not interactive: names every missing input at once, exit 2, changes nothing', async () => {
        if (Cmd === AuthLogin) {
          delete process.env.REDFLY_API_URL;
          delete process.env.REDFLY_ACCESS_TOKEN;
        }
        // Only reads are answered: a create, update or delete would fail the test.
        const scope = nock(API)
          .persist()
          .get('/v1/orgs').reply(200, [{slug: 'personal', name: 'Personal', type: 'personal', createdAt: ''}])
          .get('/v1/regions').reply(200, [{code: 'mad', name: 'Madrid, Spain', latitude: 40, longitude: -3}])
          .get('/v1/plans').reply(200, []);
        const result = await run(Cmd, withJson ? [...missing.argv, '--json'] : missing.argv);
        expect(result.exitCode).toBe(2);
        const text = withJson ? JSON.parse(result.stdout).error.message : result.stderr;
        for (const flag of missing.flags) expect(text).toContain(flag);
        scope.persist(false);
      });
    }
  });
});
