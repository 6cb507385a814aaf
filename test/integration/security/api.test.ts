// API strictness and quotas (issue 10), against the built server: wrong types are a 400 naming
// the field and change nothing, every error has the one shape and comes after the token check,
// org names are judged by their own rule, an organization-scoped token cannot widen its scope,
// and an organization's creates are bounded (429 with Retry-After).
import {api, Platform, request, startPlatform} from './platform';

jest.setTimeout(120_000);

let p: Platform;

beforeAll(async () => {
  p = await startPlatform([], {REDFLY_ORG_CREATES_PER_MINUTE: '3', REDFLY_ORG_MAX_DATABASES: '5'});
});
afterAll(async () => p && (await p.stop()));

const base = {org: 'personal', primaryRegion: 'mad', plan: 'free'};

function oneShape(body: any): void {
  expect(Object.keys(body)).toEqual(['error']);
  expect(typeof body.error.code).toBe('string');
  expect(typeof body.error.message).toBe('string');
  expect(body.error.requestId).toMatch(/^req_/);
}

it.each([
  ['org', {org: ['personal']}],
  ['readRegions', {readRegions: 'ams'}],
  ['eviction', {eviction: 'true'}],
  ['eviction', {eviction: 1}],
])('does not coerce %s (%j): 400 naming the field, nothing created', async (field, patch) => {
  const before = (await api(p, 'GET', '/v1/databases')).body.databases.length;
  const r = await api(p, 'POST', '/v1/databases', {...base, name: `typed-${field.toLowerCase()}`, ...patch});
  expect(r.status).toBe(400);
  oneShape(r.body);
  expect(r.body.error.message).toContain(field);
  expect((await api(p, 'GET', '/v1/databases')).body.databases.length).toBe(before);
});

it('checks the token before anything else, long ids included, in the one error shape', async () => {
  const long = 'x'.repeat(201);
  const anonymous = await request(p.apiUrl, 'GET', `/v1/databases/${long}`);
  expect(anonymous.status).toBe(401);
  oneShape(anonymous.body);
  // With a token: the parameter's own limit, as a validation error in the one shape.
  const known = await api(p, 'GET', `/v1/databases/${long}`);
  expect(known.status).toBe(400);
  oneShape(known.body);
  expect(known.body.error.message).toContain('idOrName');
  const noRoute = await request(p.apiUrl, 'GET', '/v1/no-such-thing');
  expect(noRoute.status).toBe(401);
  oneShape(noRoute.body);
});

it("judges an organization's name by its own rule, not the database-name rule", async () => {
  const r = await api(p, 'POST', '/v1/orgs', {slug: 'acme', name: 'n'.repeat(10_000)});
  expect(r.status).toBe(400);
  oneShape(r.body);
  expect(r.body.error.message).toContain('name');
  expect(r.body.error.message).not.toMatch(/lowercase letters, digits and dashes/);
});

it('an organization-scoped token cannot create organizations', async () => {
  expect((await api(p, 'POST', '/v1/orgs', {slug: 'team-a'})).status).toBe(201);
  const made = await api(p, 'POST', '/v1/orgs/team-a/tokens', {name: 'ci'});
  expect(made.status).toBe(201);
  const r = await request(p.apiUrl, 'POST', '/v1/orgs', {slug: 'widened'}, made.body.token);
  expect(r.status).toBe(403);
  oneShape(r.body);
  const orgs = await request(p.apiUrl, 'GET', '/v1/orgs', undefined, made.body.token);
  expect(orgs.body.map((o: any) => o.slug)).toEqual(['team-a']);
});

it("bounds an organization's creates: 429 with Retry-After", async () => {
  const statuses: number[] = [];
  let retryAfter: string | undefined;
  for (let i = 0; i < 5; i++) {
    const r = await api(p, 'POST', '/v1/databases', {...base, name: `burst-${i}`});
    statuses.push(r.status);
    if (r.status === 429) {
      oneShape(r.body);
      retryAfter = r.headers['retry-after'] as string;
    }
  }
  expect(statuses.slice(0, 3)).toEqual([201, 201, 201]);
  expect(statuses.slice(3)).toEqual([429, 429]);
  expect(Number(retryAfter)).toBeGreaterThan(0);
});
