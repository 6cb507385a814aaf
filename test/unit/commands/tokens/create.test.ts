import '../../helpers/oclif-env';
import TokensCreate from '../../../../src/commands/tokens/create';
import {api, apiError, ORGS, run, useFakeApi} from '../../helpers/harness';

const CREATED = {
  id: 'tok_abc123def456',
  name: 'ci',
  orgs: ['acme'],
  createdAt: '2026-11-30T12:00:00.000Z',
  lastUsedAt: null,
  token: 'rf_secret',
};

describe('tokens create', () => {
  useFakeApi();

  it('prints the secret alone on stdout and the note on stderr', async () => {
    const scope = api().post('/v1/orgs/acme/tokens', {name: 'ci'}).reply(201, CREATED);
    const {stdout, stderr, exitCode} = await run(TokensCreate, ['--org', 'acme', '--name', 'ci']);
    expect(exitCode).toBe(0);
    expect(stdout).toBe('rf_secret\n');
    expect(stderr).toContain('Created token ci (tok_abc123def456) for acme');
    expect(stderr).toContain('not shown again');
    scope.done();
  });

  it('without --org uses the only organization of the token and sends no name', async () => {
    const scope = api()
      .get('/v1/orgs').reply(200, ORGS)
      .post('/v1/orgs/personal/tokens', {}).reply(201, {...CREATED, name: 'personal token', orgs: ['personal']});
    const {stdout, stderr, exitCode} = await run(TokensCreate, []);
    expect(exitCode).toBe(0);
    expect(stdout).toBe('rf_secret\n');
    expect(stderr).toContain('Automatically selected organization Personal (personal)');
    scope.done();
  });

  it('--json prints the token with its secret', async () => {
    const scope = api().post('/v1/orgs/acme/tokens', {name: 'ci'}).reply(201, CREATED);
    const {stdout, exitCode} = await run(TokensCreate, ['-o', 'acme', '-n', 'ci', '--json']);
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout)).toEqual(CREATED);
    scope.done();
  });

  it("an organization the token cannot see is the server's 404", async () => {
    const scope = api().post('/v1/orgs/other/tokens').reply(404, apiError('not_found', 'organization other not found'));
    const {stdout, stderr, exitCode} = await run(TokensCreate, ['-o', 'other']);
    expect(exitCode).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('organization other not found');
    scope.done();
  });
});
