import '../../helpers/oclif-env';
import * as prompts from '../../../../src/cli/prompts';
import RedisUpdate from '../../../../src/commands/redis/update';
import {api, apiError, db, DB_KEYS, PLANS, REGIONS, run, useFakeApi} from '../../helpers/harness';

describe('redis update', () => {
  useFakeApi();
  afterEach(() => jest.restoreAllMocks());

  it('runs from flags alone and sends only what changed', async () => {
    const current = db({readRegions: ['ams'], plan: 'free'});
    const scope = api()
      .get('/v1/databases/my-cache').reply(200, current)
      .get('/v1/regions').reply(200, REGIONS)
      .get('/v1/plans').reply(200, PLANS)
      // ams stays, plan changes, eviction already off: only the plan is sent
      .patch('/v1/databases/abcdefghijklmno', (body) => JSON.stringify(body) === JSON.stringify({plan: '200mb'}))
      .reply(200, db({readRegions: ['ams'], plan: '200mb', status: 'updating'}))
      .get('/v1/databases/abcdefghijklmno').reply(200, db({readRegions: ['ams'], plan: '200mb'}));
    const {stdout, exitCode} = await run(RedisUpdate, ['my-cache', '--replica-regions', 'ams', '--plan', '200mb', '--disable-eviction']);
    expect(exitCode).toBe(0);
    expect(stdout).toBe('Updated my-cache: plan free -> 200mb.\n');
    scope.done();
  });

  it('--replica-regions "" removes every replica', async () => {
    const scope = api()
      .get('/v1/databases/my-cache').reply(200, db({readRegions: ['ams', 'fra']}))
      .get('/v1/regions').reply(200, REGIONS)
      .patch('/v1/databases/abcdefghijklmno', {readRegions: []}).reply(200, db())
    const {stdout, exitCode} = await run(RedisUpdate, ['my-cache', '--replica-regions', '', '--json']);
    expect(exitCode).toBe(0);
    expect(Object.keys(JSON.parse(stdout)).sort()).toEqual([...DB_KEYS].sort());
    scope.done();
  });

  it('says so and sends nothing when nothing changes', async () => {
    const scope = api().get('/v1/databases/my-cache').reply(200, db({eviction: true}));
    const {stdout, exitCode} = await run(RedisUpdate, ['my-cache', '--enable-eviction']);
    expect(exitCode).toBe(0);
    expect(stdout).toBe('No changes: my-cache already has these settings.\n');
    scope.done();
  });

  it('refuses unknown replica regions and the primary, listing valid codes (exit 2)', async () => {
    const scope = api().get('/v1/databases/my-cache').reply(200, db()).get('/v1/regions').reply(200, REGIONS);
    const {stderr, exitCode} = await run(RedisUpdate, ['my-cache', '--replica-regions', 'ams,zzz']);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('Unknown read region "zzz"; valid region codes: ams, fra, syd');
    scope.done();
  });

  it.each([['ams,ams'], [',,,']])('refuses --replica-regions %s as the API would (exit 2, nothing sent)', async (value) => {
    const scope = api().get('/v1/databases/my-cache').reply(200, db()).get('/v1/regions').reply(200, REGIONS);
    const {exitCode} = await run(RedisUpdate, ['my-cache', '--replica-regions', value]);
    expect(exitCode).toBe(2);
    scope.done();
  });

  it('--region: says the primary region cannot change, and what to do instead (exit 2)', async () => {
    const {stderr, exitCode} = await run(RedisUpdate, ['my-cache', '--region', 'fra']);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('The primary region of a database cannot change');
    expect(stderr).not.toContain('Nonexistent flag');
    expect(stderr).toContain('redfly redis create --region fra');
  });

  it('nothing to change without a terminal: the hint keeps what was typed', async () => {
    const {stderr, exitCode} = await run(RedisUpdate, ['my-cache', '--no-wait']);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('redfly redis update my-cache --no-wait --plan <plan>');
  });

  it('interactive: preselects current values and sends only what changed', async () => {
    const checkbox = jest.spyOn(prompts, 'checkbox').mockResolvedValue(['ams', 'syd']);
    const select = jest.spyOn(prompts, 'select').mockResolvedValue('free');
    const confirm = jest.spyOn(prompts, 'confirm').mockResolvedValue(true);
    const scope = api()
      .get('/v1/databases/my-cache').reply(200, db({readRegions: ['ams'], eviction: true}))
      .get('/v1/regions').reply(200, REGIONS)
      .get('/v1/plans').reply(200, PLANS)
      .patch('/v1/databases/abcdefghijklmno', (body) => JSON.stringify(body) === JSON.stringify({readRegions: ['ams', 'syd']}))
      .reply(200, db({readRegions: ['ams', 'syd'], eviction: true}));
    const {stdout, exitCode} = await run(RedisUpdate, ['my-cache'], {interactive: true});
    expect(exitCode).toBe(0);
    expect(stdout).toContain('read regions ams -> ams,syd');
    const replicaQ = checkbox.mock.calls[0][0];
    expect(replicaQ.choices.filter((c) => c.checked).map((c) => c.value)).toEqual(['ams']);
    expect(replicaQ.choices.map((c) => c.value)).not.toContain('mad');
    expect(select.mock.calls[0][0].default).toBe('free');
    expect(confirm.mock.calls[0][0].default).toBe(true);
    scope.done();
  });

  it('passes a refused change (422) through with its code (exit 2)', async () => {
    const scope = api()
      .get('/v1/databases/my-cache').reply(200, db())
      .get('/v1/plans').reply(200, PLANS)
      .patch('/v1/databases/abcdefghijklmno').reply(422, apiError('invalid_change', 'cannot downgrade while over the limit'));
    const {stderr, exitCode} = await run(RedisUpdate, ['my-cache', '--plan', '200mb']);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('cannot downgrade while over the limit');
    expect(stderr).toContain('Code: invalid_change');
    scope.done();
  });
});
