import '../helpers/oclif-env';
import OrgsCreate from '../../../src/commands/orgs/create';
import OrgsList from '../../../src/commands/orgs/list';
import {api, apiError, ORGS, run, useFakeApi} from '../helpers/harness';

describe('orgs list', () => {
  useFakeApi();

  it('prints a table of organizations', async () => {
    const scope = api().get('/v1/orgs').reply(200, ORGS);
    const {stdout, exitCode} = await run(OrgsList, []);
    expect(exitCode).toBe(0);
    expect(stdout.split('\n')[1].split(/\s{2,}/)).toEqual(['personal', 'Personal', 'personal', '2026-11-24T00:00:00.000Z']);
    scope.done();
  });

  it('--json prints the organizations', async () => {
    const scope = api().get('/v1/orgs').reply(200, ORGS);
    expect(JSON.parse((await run(OrgsList, ['--json'])).stdout)).toEqual(ORGS);
    scope.done();
  });
});

describe('orgs create', () => {
  useFakeApi();

  it('creates an organization with an optional name', async () => {
    const scope = api().post('/v1/orgs', {slug: 'acme', name: 'Acme Inc'}).reply(201, {slug: 'acme', name: 'Acme Inc', type: 'shared', createdAt: ''});
    const {stdout, exitCode} = await run(OrgsCreate, ['acme', '--name', 'Acme Inc']);
    expect(exitCode).toBe(0);
    expect(stdout).toBe('Created organization Acme Inc (acme).\n');
    scope.done();
  });

  it('a taken slug is the server\'s 409 with a hint', async () => {
    const scope = api().post('/v1/orgs', {slug: 'acme'}).reply(409, apiError('slug_taken', 'organization "acme" already exists'));
    const {stderr, exitCode} = await run(OrgsCreate, ['acme']);
    expect(exitCode).toBe(2); // a taken slug is the input's fault, like a 400 (issue 13)
    expect(stderr).toContain('organization "acme" already exists');
    expect(stderr).toContain('Try this: redfly orgs list');
    scope.done();
  });
});
