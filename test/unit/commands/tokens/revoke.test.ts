import '../../helpers/oclif-env';
import * as prompts from '../../../../src/cli/prompts';
import TokensRevoke from '../../../../src/commands/tokens/revoke';
import {api, apiError, run, useFakeApi} from '../../helpers/harness';

const REVOKED = {id: 'tok_bbbbbbbbbbbb', name: 'ci', orgs: ['acme'], createdAt: '2026-11-30T11:00:00.000Z', lastUsedAt: null};

describe('tokens revoke', () => {
  useFakeApi();
  afterEach(() => jest.restoreAllMocks());

  it('--yes revokes without asking', async () => {
    const confirm = jest.spyOn(prompts, 'confirm');
    const scope = api().delete('/v1/tokens/tok_bbbbbbbbbbbb').reply(200, REVOKED);
    const {stdout, exitCode} = await run(TokensRevoke, ['tok_bbbbbbbbbbbb', '--yes']);
    expect(exitCode).toBe(0);
    expect(stdout).toBe('Revoked token ci (tok_bbbbbbbbbbbb).\n');
    expect(confirm).not.toHaveBeenCalled();
    scope.done();
  });

  it('--json prints the revoked token', async () => {
    const scope = api().delete('/v1/tokens/tok_bbbbbbbbbbbb').reply(200, REVOKED);
    const {stdout, exitCode} = await run(TokensRevoke, ['tok_bbbbbbbbbbbb', '-y', '--json']);
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout)).toEqual(REVOKED);
    scope.done();
  });

  it('without a terminal and without --yes: exit 2, no request', async () => {
    const {stderr, exitCode} = await run(TokensRevoke, ['tok_bbbbbbbbbbbb']);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('--yes');
    expect(stderr).toContain('redfly tokens revoke tok_bbbbbbbbbbbb --yes');
  });

  it('at a terminal it asks; "no" revokes nothing', async () => {
    const confirm = jest.spyOn(prompts, 'confirm').mockResolvedValue(false);
    const {stderr, exitCode} = await run(TokensRevoke, ['tok_bbbbbbbbbbbb'], {interactive: true});
    expect(exitCode).toBe(0);
    expect(confirm).toHaveBeenCalledTimes(1);
    expect(stderr).toContain('Nothing revoked.');
  });

  it('at a terminal, "yes" revokes', async () => {
    jest.spyOn(prompts, 'confirm').mockResolvedValue(true);
    const scope = api().delete('/v1/tokens/tok_bbbbbbbbbbbb').reply(200, REVOKED);
    const {stdout, exitCode} = await run(TokensRevoke, ['tok_bbbbbbbbbbbb'], {interactive: true});
    expect(exitCode).toBe(0);
    expect(stdout).toContain('Revoked token ci');
    scope.done();
  });

  it("a wider token is the server's 403, passed through", async () => {
    const scope = api()
      .delete('/v1/tokens/tok_cccccccccccc')
      .reply(403, apiError('forbidden', 'token tok_cccccccccccc also has access to personal'));
    const {stderr, exitCode} = await run(TokensRevoke, ['tok_cccccccccccc', '--yes']);
    expect(exitCode).toBe(1);
    expect(stderr).toContain('also has access to personal');
    scope.done();
  });
});
