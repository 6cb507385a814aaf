// `redfly tokens create|list|revoke` through the built CLI against a real server: a new token
// works, its last use shows up, and once revoked it is refused on the very next request.
import {assertBuilt, cliEnv, ok, redfly, startServer, stopServer, tempHome} from './helpers';
import * as fs from 'node:fs';

jest.setTimeout(60_000);

let home: string;
let env: NodeJS.ProcessEnv;
const json = async (args: string[], e = env) => JSON.parse(ok(await redfly([...args, '--json'], {env: e})).stdout);
const withToken = (token: string) => cliEnv(home, {REDFLY_ACCESS_TOKEN: token});

beforeAll(async () => {
  assertBuilt();
  home = tempHome('redfly-tokens-');
  env = cliEnv(home);
  await startServer(home);
});

afterAll(async () => {
  await stopServer(home);
  fs.rmSync(home, {recursive: true, force: true});
});

test('a created token works, is listed with its last use, and is refused once revoked', async () => {
  const created = await json(['tokens', 'create', '-o', 'personal', '-n', 'ci']);
  expect(created).toEqual({
    id: expect.stringMatching(/^tok_/),
    name: 'ci',
    orgs: ['personal'],
    createdAt: expect.any(String),
    lastUsedAt: null,
    token: expect.any(String),
  });

  let listed = await json(['tokens', 'list', '-o', 'personal']);
  expect(listed.map((t: {name: string}) => t.name)).toEqual(['local', 'ci']);
  expect(listed[1].lastUsedAt).toBeNull();
  expect(JSON.stringify(listed)).not.toContain(created.token);

  const me = await json(['auth', 'whoami'], withToken(created.token));
  expect(me.tokenId).toBe(created.id);
  listed = await json(['tokens', 'list', '-o', 'personal']);
  const ci = listed.find((t: {id: string}) => t.id === created.id);
  expect(Date.parse(ci.lastUsedAt)).toBeGreaterThanOrEqual(Date.parse(created.createdAt));

  const text = ok(await redfly(['tokens', 'list', '-o', 'personal'], {env})).stdout;
  expect(text).toMatch(new RegExp(`${created.id}\\s+ci\\s+`));

  const revoked = await json(['tokens', 'revoke', created.id, '--yes']);
  expect(revoked.id).toBe(created.id);
  const refused = await redfly(['auth', 'whoami'], {env: withToken(created.token)});
  expect(refused.exitCode).toBe(1);
  expect(refused.stderr).toContain('invalid access token');
  listed = await json(['tokens', 'list', '-o', 'personal']);
  expect(listed.map((t: {id: string}) => t.id)).not.toContain(created.id);
});

test('the plain create prints only the secret on stdout, and it works', async () => {
  const result = ok(await redfly(['tokens', 'create', '-o', 'personal'], {env}));
  const secret = result.stdout.trim();
  expect(result.stdout).toBe(`${secret}\n`);
  expect(result.stderr).toContain('not shown again');
  ok(await redfly(['auth', 'whoami'], {env: withToken(secret)}));
});

test('a token for one organization cannot revoke a wider one; an unknown id is not found', async () => {
  ok(await redfly(['orgs', 'create', 'acme'], {env}));
  const local = (await json(['tokens', 'list', '-o', 'acme'])).find((t: {name: string}) => t.name === 'local');
  expect(local.orgs).toEqual(['acme', 'personal']);
  const narrow = await json(['tokens', 'create', '-o', 'acme', '-n', 'narrow']);

  const wider = await redfly(['tokens', 'revoke', local.id, '--yes'], {env: withToken(narrow.token)});
  expect(wider.exitCode).toBe(1);
  expect(wider.stderr).toContain('also has access to personal');
  ok(await redfly(['auth', 'whoami'], {env})); // still works

  const unknown = await redfly(['tokens', 'revoke', 'tok_nosuchtoken0', '--yes', '--json'], {env});
  expect(unknown.exitCode).toBe(1);
  expect(JSON.parse(unknown.stdout).error.code).toBe('not_found');

  // a token may revoke itself
  ok(await redfly(['tokens', 'revoke', narrow.id, '--yes'], {env: withToken(narrow.token)}));
  expect((await redfly(['auth', 'whoami'], {env: withToken(narrow.token)})).exitCode).toBe(1);
});
