// Database names are unique per organization, not across the platform (issue 10): two
// organizations use the same name without learning of each other, an organization-scoped token
// sees only its own, and a token that sees several of that name is asked for the organization
// (409 ambiguous_name; the CLI's --org), against the built server and the built CLI.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {assertBuilt, cliEnv, ok, redfly, tempHome} from './helpers';

jest.setTimeout(180_000);

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

let home: string;
let env: NodeJS.ProcessEnv;
let apiUrl: string;
let user: string; // the local user token: personal, then acme and beta, which it creates
let acmeToken: string;
let betaToken: string;
const ids: Record<string, string> = {};

async function call(method: string, route: string, token: string, body?: unknown): Promise<{status: number; body: Json}> {
  const res = await fetch(apiUrl + route, {
    method,
    headers: {authorization: `Bearer ${token}`, ...(body !== undefined ? {'content-type': 'application/json'} : {})},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {status: res.status, body: text ? JSON.parse(text) : null};
}

async function created(org: string, token: string): Promise<string> {
  const r = await call('POST', '/v1/databases', token, {org, name: 'shared-name', primaryRegion: 'mad', plan: 'free'});
  expect({org, status: r.status}).toEqual({org, status: 201});
  return r.body.id;
}

async function ready(id: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await call('GET', `/v1/databases/${id}`, user)).body.status === 'ready') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${id} never ready`);
}

beforeAll(async () => {
  assertBuilt();
  home = tempHome('redfly-names-');
  env = cliEnv(home);
  apiUrl = JSON.parse(ok(await redfly(['server', 'start', '--port', '0', '--json'], {env})).stdout).apiUrl;
  user = JSON.parse(fs.readFileSync(path.join(home, 'local-credentials.json'), 'utf8')).token;
  for (const slug of ['acme', 'beta']) expect((await call('POST', '/v1/orgs', user, {slug})).status).toBe(201);
  acmeToken = (await call('POST', '/v1/orgs/acme/tokens', user, {name: 'acme-ci'})).body.token;
  betaToken = (await call('POST', '/v1/orgs/beta/tokens', user, {name: 'beta-ci'})).body.token;
  ids.acme = await created('acme', acmeToken);
});

afterAll(async () => {
  if (home) {
    await redfly(['server', 'stop'], {env});
    fs.rmSync(home, {recursive: true, force: true});
  }
});

it("lets another organization use a taken name, without telling it the name was taken elsewhere", async () => {
  ids.beta = await created('beta', betaToken);
  const again = await call('POST', '/v1/databases', betaToken, {org: 'beta', name: 'shared-name', primaryRegion: 'mad', plan: 'free'});
  expect(again.status).toBe(409);
  expect(again.body.error).toMatchObject({code: 'name_taken', message: expect.stringContaining('organization beta')});
  expect(again.body.error.message).not.toContain('acme');
});

it("an organization-scoped token resolves a name in its own organization only", async () => {
  const mine = await call('GET', '/v1/databases/shared-name', betaToken);
  expect({status: mine.status, id: mine.body.id, org: mine.body.org}).toEqual({status: 200, id: ids.beta, org: 'beta'});
  for (const route of [`/v1/databases/${ids.acme}`, '/v1/databases/shared-name?org=acme', `/v1/databases/${ids.acme}/stats`]) {
    const r = await call('GET', route, betaToken);
    expect({route, status: r.status, code: r.body.error.code}).toEqual({route, status: 404, code: 'not_found'});
  }
  const cli = await redfly(['redis', 'status', 'shared-name', '--json', '--access-token', betaToken], {env});
  expect(JSON.parse(ok(cli).stdout)).toMatchObject({id: ids.beta, org: 'beta'});
});

it('asks a token that sees the name in several organizations which one (409 ambiguous_name)', async () => {
  ids.personal = await created('personal', user);
  for (const [method, route, body] of [
    ['GET', '/v1/databases/shared-name', undefined],
    ['GET', '/v1/databases/shared-name/stats', undefined],
    ['PATCH', '/v1/databases/shared-name', {eviction: true}],
    ['POST', '/v1/databases/shared-name/reset-password', {}],
    ['DELETE', '/v1/databases/shared-name', undefined],
  ] as const) {
    const r = await call(method, route, user, body);
    expect({route, method, status: r.status, code: r.body.error?.code}).toEqual({route, method, status: 409, code: 'ambiguous_name'});
    expect(r.body.error.details).toEqual({orgs: ['acme', 'beta', 'personal']});
    expect(r.body.error.message).toContain('org');
  }
  // nothing changed, nothing deleted
  for (const id of [ids.acme, ids.beta, ids.personal]) {
    const r = await call('GET', `/v1/databases/${id}`, user);
    expect({status: r.status, eviction: r.body.eviction}).toEqual({status: 200, eviction: false});
  }
  const named = await call('GET', '/v1/databases/shared-name?org=acme', user);
  expect(named.body.id).toBe(ids.acme);
  // an id needs no organization
  expect((await call('GET', `/v1/databases/${ids.beta}`, user)).body.name).toBe('shared-name');

  const cli = await redfly(['redis', 'status', 'shared-name'], {env});
  expect(cli.exitCode).not.toBe(0);
  expect(cli.stderr).toContain('acme, beta, personal');
  expect(cli.stderr).toContain('--org');
});

it('--org picks the database on status, reset, update, connect and delete', async () => {
  for (const org of ['acme', 'beta', 'personal']) {
    const shown = JSON.parse(ok(await redfly(['redis', 'status', 'shared-name', '--org', org, '--json'], {env})).stdout);
    expect({org, id: shown.id}).toEqual({org, id: ids[org]});
  }
  await Promise.all([ready(ids.acme), ready(ids.personal)]);
  const before = (await call('GET', `/v1/databases/${ids.personal}`, user)).body.privateUrl;
  const reset = JSON.parse(ok(await redfly(['redis', 'reset', 'shared-name', '-o', 'acme', '--json'], {env})).stdout);
  expect(reset.id).toBe(ids.acme);
  expect((await call('GET', `/v1/databases/${ids.personal}`, user)).body.privateUrl).toBe(before);

  const updated = JSON.parse(ok(await redfly(['redis', 'update', 'shared-name', '--org', 'personal', '--enable-eviction', '--json'], {env})).stdout);
  expect({id: updated.id, eviction: updated.eviction}).toEqual({id: ids.personal, eviction: true});
  expect((await call('GET', `/v1/databases/${ids.acme}`, user)).body.eviction).toBe(false);

  expect(ok(await redfly(['redis', 'connect', 'shared-name', '--org', 'acme'], {env, input: 'SET whose acme\n'})).stdout).toBe('OK\n');
  expect(ok(await redfly(['redis', 'connect', 'shared-name', '--org', 'personal'], {env, input: 'EXISTS whose\n'})).stdout).toBe('0\n');
  expect(ok(await redfly(['redis', 'connect', 'shared-name', '--org', 'acme'], {env, input: 'GET whose\n'})).stdout).toBe('acme\n');

  const deleted = JSON.parse(ok(await redfly(['redis', 'delete', 'shared-name', '--org', 'beta', '--yes', '--json'], {env})).stdout);
  expect(deleted.id).toBe(ids.beta);
  expect((await call('GET', `/v1/databases/${ids.acme}`, user)).status).toBe(200);
  expect((await call('GET', `/v1/databases/${ids.personal}`, user)).status).toBe(200);
  // an organization the token does not have
  const foreign = await redfly(['redis', 'status', 'shared-name', '--org', 'nope'], {env});
  expect(foreign.exitCode).not.toBe(0);
  expect(foreign.stderr).toContain('organization nope not found');
});
