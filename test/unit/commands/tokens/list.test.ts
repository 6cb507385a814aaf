import '../../helpers/oclif-env';
import TokensList from '../../../../src/commands/tokens/list';
import {api, run, useFakeApi} from '../../helpers/harness';

const TOKENS = [
  {id: 'tok_aaaaaaaaaaaa', name: 'local', orgs: ['acme'], createdAt: '2026-11-30T10:00:00.000Z', lastUsedAt: '2026-11-30T12:00:00.000Z'},
  {id: 'tok_bbbbbbbbbbbb', name: 'ci', orgs: ['acme'], createdAt: '2026-11-30T11:00:00.000Z', lastUsedAt: null},
];

describe('tokens list', () => {
  useFakeApi();

  it('prints id, name, creation and last use; "never" for an unused token', async () => {
    const scope = api().get('/v1/orgs/acme/tokens').reply(200, TOKENS);
    const {stdout, exitCode} = await run(TokensList, ['-o', 'acme']);
    expect(exitCode).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual(['ID', 'NAME', 'CREATED', 'LAST USED']);
    expect(lines[1].split(/\s{2,}/)).toEqual(['tok_aaaaaaaaaaaa', 'local', '2026-11-30T10:00:00.000Z', '2026-11-30T12:00:00.000Z']);
    expect(lines[2].split(/\s{2,}/)).toEqual(['tok_bbbbbbbbbbbb', 'ci', '2026-11-30T11:00:00.000Z', 'never']);
    expect(stdout).not.toContain('secret');
    scope.done();
  });

  it('--json prints the tokens as the API gave them', async () => {
    const scope = api().get('/v1/orgs/acme/tokens').reply(200, TOKENS);
    const {stdout, exitCode} = await run(TokensList, ['-o', 'acme', '--json']);
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout)).toEqual(TOKENS);
    scope.done();
  });

  it('an organization without tokens says so', async () => {
    const scope = api().get('/v1/orgs/acme/tokens').reply(200, []);
    const {stdout, exitCode} = await run(TokensList, ['-o', 'acme']);
    expect(exitCode).toBe(0);
    expect(stdout).toBe('No tokens for acme.\n');
    scope.done();
  });
});
