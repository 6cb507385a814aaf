import '../../helpers/oclif-env';
import * as prompts from '../../../../src/cli/prompts';
import RedisCreate from '../../../../src/commands/redis/create';
import {api, apiError, db, DB_KEYS, ORGS, PLANS, REGIONS, run, useFakeApi} from '../../helpers/harness';

const catalogue = () =>
  api().get('/v1/orgs').reply(200, ORGS).get('/v1/regions').reply(200, REGIONS).get('/v1/plans').reply(200, PLANS);

describe('redis create', () => {
  useFakeApi();
  afterEach(() => jest.restoreAllMocks());

  it('creates from flags alone, waits until ready and prints the URL and price', async () => {
    const scope = catalogue()
      .post('/v1/databases', {org: 'personal', name: 'my-cache', primaryRegion: 'mad', readRegions: ['ams'], plan: '200mb', eviction: true})
      .matchHeader('idempotency-key', /^[0-9a-f-]{36}$/)
      .reply(201, db({status: 'provisioning', readRegions: ['ams'], plan: '200mb', eviction: true}))
      .get('/v1/databases/abcdefghijklmno')
      .reply(200, db({status: 'provisioning'}))
      .get('/v1/databases/abcdefghijklmno')
      .reply(200, db({readRegions: ['ams'], plan: '200mb', eviction: true}));
    const {stdout, stderr, exitCode} = await run(RedisCreate, [
      '-n', 'my-cache', '-r', 'mad', '--replica-regions', 'ams', '--plan', '200mb', '--enable-eviction',
    ]);
    expect(exitCode).toBe(0);
    expect(stdout).toContain('URL: redis://default:secret@127.0.0.1:7001');
    expect(stdout).toContain('redfly redis connect my-cache');
    expect(stdout).toContain('$10/month per region: $20/month for 2 regions');
    expect(stderr).toContain('Automatically selected organization Personal (personal)');
    expect(stderr).toContain('Provisioning my-cache');
    scope.done();
  });

  it('takes REDFLY_REGION and REDFLY_ORG as defaults', async () => {
    process.env.REDFLY_REGION = 'fra';
    process.env.REDFLY_ORG = 'personal';
    const scope = catalogue()
      .post('/v1/databases', {org: 'personal', primaryRegion: 'fra', readRegions: [], plan: 'free', eviction: false})
      .reply(201, db({primaryRegion: 'fra'}));
    const {stderr, exitCode} = await run(RedisCreate, ['--no-replicas', '--plan', 'free']);
    expect(exitCode).toBe(0);
    expect(stderr).not.toContain('Automatically selected');
    scope.done();
  });

  it('--json --no-wait prints the database document as created', async () => {
    const scope = catalogue()
      .post('/v1/databases')
      .reply(201, db({status: 'provisioning', processes: []}));
    const {stdout, stderr, exitCode} = await run(RedisCreate, ['-r', 'mad', '--no-replicas', '--plan', 'free', '--no-wait', '--json']);
    expect(exitCode).toBe(0);
    expect(stderr).toBe('');
    const doc = JSON.parse(stdout);
    expect(Object.keys(doc).sort()).toEqual([...DB_KEYS].sort());
    expect(doc.status).toBe('provisioning');
    scope.done();
  });

  it('names every missing flag at once when not interactive, and creates nothing', async () => {
    const scope = catalogue();
    const {stdout, stderr, exitCode} = await run(RedisCreate, []);
    expect(exitCode).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('--region, --replica-regions (or --no-replicas), --plan');
    expect(stderr).toContain('Code: missing_flags');
    scope.done();
  });

  it('--no-replicas with --replica-regions is a contradiction: exit 2, nothing created', async () => {
    const {stderr, exitCode} = await run(RedisCreate, ['-r', 'mad', '--plan', 'free', '--no-replicas', '--replica-regions', 'ams']);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('--replica-regions=ams cannot also be provided when using --no-replicas');
  });

  it('"Try this" keeps every flag typed and names the personal organization (issue 13)', async () => {
    const scope = api()
      .get('/v1/orgs').reply(200, [{slug: 'acme', name: 'Acme', type: 'shared', createdAt: ''}, ...ORGS])
      .get('/v1/regions').reply(200, REGIONS)
      .get('/v1/plans').reply(200, PLANS);
    const {stderr, exitCode} = await run(RedisCreate, ['-n', 'del-me', '-r', 'fra', '--no-replicas', '--plan', 'free', '--disable-eviction']);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('Missing flag --org');
    expect(stderr).toContain('Try this: redfly redis create -n del-me -r fra --no-replicas --plan free --disable-eviction --org personal');
    scope.done();
  });

  it('the summary of a free plan says it once: "Plan: Free (free)"', async () => {
    const scope = catalogue().post('/v1/databases').reply(201, db());
    const {stdout, exitCode} = await run(RedisCreate, ['-r', 'mad', '--no-replicas', '--plan', 'free']);
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/^Plan: Free \(free\)$/m);
    scope.done();
  });

  it('--json has the endpoints, as the text has the URL', async () => {
    const endpoints = {mad: 'redis://default:secret@127.0.0.1:7001', ams: 'redis://default:secret@127.0.0.1:7002'};
    const scope = catalogue().post('/v1/databases').reply(201, db({readRegions: ['ams'], endpoints}));
    const {stdout, exitCode} = await run(RedisCreate, ['-r', 'mad', '--replica-regions', 'ams', '--plan', 'free', '--json']);
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout).endpoints).toEqual(endpoints);
    scope.done();
  });

  it('asks for --org when there are several organizations', async () => {
    const scope = api()
      .get('/v1/orgs').reply(200, [...ORGS, {slug: 'acme', name: 'Acme', type: 'shared', createdAt: ''}])
      .get('/v1/regions').reply(200, REGIONS)
      .get('/v1/plans').reply(200, PLANS);
    const {stdout, exitCode} = await run(RedisCreate, ['-r', 'mad', '--no-replicas', '--plan', 'free', '--json']);
    expect(exitCode).toBe(2);
    expect(JSON.parse(stdout)).toEqual({error: {code: 'missing_flags', message: expect.stringContaining('--org')}});
    scope.done();
  });

  it.each([
    // The API's own words (src/lib/read-regions.ts), one rule on both sides (issue 13).
    [['--replica-regions', 'ams,xyz'], 'Unknown read region "xyz"; valid region codes: ams, fra, syd'],
    [['--replica-regions', 'mad'], 'Read region mad is the primary region; a read region must differ from it'],
    [['--replica-regions', 'ams,ams'], 'Read region ams is listed twice'],
    [['--replica-regions', ',,,'], 'Read regions contain an empty entry; valid region codes: ams, fra, syd'],
    [['--replica-regions', 'ams,'], 'Read regions contain an empty entry'],
  ])('refuses replica regions %j, listing the valid codes (exit 2)', async (flags, message) => {
    const scope = catalogue();
    const {stderr, exitCode} = await run(RedisCreate, ['-r', 'mad', '--plan', 'free', ...flags]);
    expect(exitCode).toBe(2);
    expect(stderr).toContain(message);
    scope.done();
  });

  it('refuses a malformed name and contradictory eviction flags (exit 2, nothing created)', async () => {
    const scope = catalogue();
    const bad = await run(RedisCreate, ['-n', 'My Cache', '-r', 'mad', '--no-replicas', '--plan', 'free']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('Invalid name "My Cache"');
    scope.done();
    const both = await run(RedisCreate, ['-r', 'mad', '--no-replicas', '--plan', 'free', '--enable-eviction', '--disable-eviction']);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain('--disable-eviction=true cannot also be provided when using --enable-eviction');
  });

  it('refuses an unknown primary region and plan before asking anything', async () => {
    const scope = catalogue();
    const {stderr, exitCode} = await run(RedisCreate, ['-r', 'xxx', '--no-replicas', '--plan', 'free'], {interactive: true});
    expect(exitCode).toBe(2);
    expect(stderr).toContain('Unknown region "xxx". Valid codes: ams, fra, mad, syd');
    scope.done();
    const again = catalogue();
    const second = await run(RedisCreate, ['-r', 'mad', '--no-replicas', '--plan', 'gold']);
    expect(second.stderr).toContain('Unknown plan "gold". Valid plans: free, 200mb');
    expect(second.exitCode).toBe(2);
    again.done();
  });

  it('asks every question at a terminal, offering what each prompt should', async () => {
    const select = jest.spyOn(prompts, 'select');
    const input = jest.spyOn(prompts, 'input').mockResolvedValue('');
    const checkbox = jest.spyOn(prompts, 'checkbox').mockResolvedValue(['ams', 'syd']);
    const confirm = jest.spyOn(prompts, 'confirm').mockResolvedValue(true);
    select.mockImplementation(async (config) => {
      if (config.message.startsWith('Select an organization')) return 'acme';
      if (config.message.startsWith('Choose a primary region')) return 'fra';
      return '200mb';
    });
    const scope = api()
      .get('/v1/orgs').reply(200, [...ORGS, {slug: 'acme', name: 'Acme', type: 'shared', createdAt: ''}])
      .get('/v1/regions').reply(200, REGIONS)
      .get('/v1/plans').reply(200, PLANS)
      .post('/v1/databases', {org: 'acme', primaryRegion: 'fra', readRegions: ['ams', 'syd'], plan: '200mb', eviction: true})
      .reply(201, db({name: 'late-waterfall-1133'}));
    const {stdout, exitCode} = await run(RedisCreate, [], {interactive: true});
    expect(exitCode).toBe(0);
    expect(stdout).toContain('late-waterfall-1133');

    const [orgQ, regionQ, planQ] = select.mock.calls.map(([c]) => c);
    expect(orgQ.choices.map((c) => c.name)).toEqual(['Personal (personal) [personal]', 'Acme (acme)']);
    expect(regionQ.message).toBe("Choose a primary region (can't be changed later):");
    expect(regionQ.choices.map((c) => c.value).sort()).toEqual(['ams', 'fra', 'mad', 'syd']);
    expect(planQ.choices.map((c) => c.name)).toEqual(['Free (free) - free', '200 MB (200mb) - $10/month per region']);
    expect(planQ.choices[0].description).toContain('100 MB, 100 connections, 300 commands/s, 10,000 commands/day');

    const nameQ = input.mock.calls[0][0];
    expect(nameQ.message).toContain('leave blank to generate one');
    expect(nameQ.validate!('')).toBe(true);
    expect(nameQ.validate!('Bad Name')).toEqual(expect.stringContaining('lowercase'));

    const replicaQ = checkbox.mock.calls[0][0];
    expect(replicaQ.message).toContain('can be changed later');
    expect(replicaQ.choices.map((c) => c.value)).not.toContain('fra');

    const evictionQ = confirm.mock.calls[0][0];
    expect(evictionQ.default).toBe(false);
    expect(evictionQ.message).toBe('Enable eviction?');
    scope.done();
  });

  it('offers the last used region first next time', async () => {
    const scope = catalogue()
      .post('/v1/databases').reply(201, db({primaryRegion: 'syd'}))
      .get('/v1/orgs').reply(200, ORGS).get('/v1/regions').reply(200, REGIONS).get('/v1/plans').reply(200, PLANS)
      .post('/v1/databases').reply(201, db());
    await run(RedisCreate, ['-r', 'syd', '--no-replicas', '--plan', 'free']);
    const select = jest.spyOn(prompts, 'select').mockResolvedValue('syd');
    jest.spyOn(prompts, 'input').mockResolvedValue('x-db');
    jest.spyOn(prompts, 'confirm').mockResolvedValue(false);
    await run(RedisCreate, ['--no-replicas', '--plan', 'free'], {interactive: true});
    const regionQ = select.mock.calls[0][0];
    expect(regionQ.default).toBe('syd');
    expect(regionQ.choices[0].value).toBe('syd');
    scope.done();
  });

  it('prints "Aborted." and exits 130 on Ctrl-C in a prompt, creating nothing', async () => {
    const abort = Object.assign(new Error('User force closed the prompt with SIGINT'), {name: 'ExitPromptError'});
    jest.spyOn(prompts, 'input').mockRejectedValue(abort);
    const scope = catalogue();
    const {stdout, stderr, exitCode} = await run(RedisCreate, [], {interactive: true});
    expect(exitCode).toBe(130);
    expect(stderr).toBe('Automatically selected organization Personal (personal)\nAborted.\n');
    expect(stdout).toBe('');
    scope.done();
  });

  it('reports a failed provisioning with the server message (exit 1)', async () => {
    const scope = catalogue()
      .post('/v1/databases').reply(201, db({status: 'provisioning'}))
      .get('/v1/databases/abcdefghijklmno').reply(200, db({status: 'failed', statusMessage: 'redis-server is not installed'}));
    const {stderr, exitCode} = await run(RedisCreate, ['-r', 'mad', '--no-replicas', '--plan', 'free']);
    expect(exitCode).toBe(1);
    expect(stderr).toContain('redis-server is not installed');
    expect(stderr).toContain('Try this: redfly redis status abcdefghijklmno');
    scope.done();
  });

  it('shows a name conflict with its code and a hint (API 409, exit 2 like every validation: issue 13)', async () => {
    const scope = catalogue().post('/v1/databases').reply(409, apiError('name_taken', 'name "my-cache" is taken'));
    const {stderr, exitCode} = await run(RedisCreate, ['-n', 'my-cache', '-r', 'mad', '--no-replicas', '--plan', 'free']);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('name "my-cache" is taken');
    expect(stderr).toContain('Code: name_taken');
    expect(stderr).toContain('Try this: choose another --name');
    scope.done();
  });
});
