import '../../helpers/oclif-env';
import * as browser from '../../../../src/cli/browser';
import RedisDashboard from '../../../../src/commands/redis/dashboard';
import {api, apiError, ORGS, run, useFakeApi} from '../../helpers/harness';

const LINK = {
  url: 'http://api.redfly.test/dashboard/login/onetimecode',
  path: '/dashboard/login/onetimecode',
  expiresAt: '2026-11-30T12:02:00.000Z',
};

describe('redis dashboard', () => {
  useFakeApi();
  afterEach(() => jest.restoreAllMocks());

  it("asks for a link to the database's page and opens it", async () => {
    const open = jest.spyOn(browser, 'openBrowser').mockReturnValue(true);
    const scope = api().post('/v1/dashboard/links', {database: 'my-cache'}).reply(201, LINK);
    const {stdout, stderr, exitCode} = await run(RedisDashboard, ['my-cache']);
    expect(exitCode).toBe(0);
    expect(stdout).toBe(`${LINK.url}\n`);
    expect(stderr).toContain('Opening the dashboard in your browser');
    expect(open).toHaveBeenCalledWith(LINK.url);
    scope.done();
  });

  it('--no-open only prints the link', async () => {
    const open = jest.spyOn(browser, 'openBrowser');
    const scope = api().post('/v1/dashboard/links', {database: 'my-cache'}).reply(201, LINK);
    const {stdout, stderr, exitCode} = await run(RedisDashboard, ['my-cache', '--no-open']);
    expect(exitCode).toBe(0);
    expect(stdout).toBe(`${LINK.url}\n`);
    expect(stderr).toContain('it works once, within two minutes');
    expect(open).not.toHaveBeenCalled();
    scope.done();
  });

  it('without a browser it says to open the link', async () => {
    jest.spyOn(browser, 'openBrowser').mockReturnValue(false);
    const scope = api().post('/v1/dashboard/links', {database: 'my-cache'}).reply(201, LINK);
    const {stdout, stderr} = await run(RedisDashboard, ['my-cache']);
    expect(stdout).toBe(`${LINK.url}\n`);
    expect(stderr).toContain('Open this link');
    scope.done();
  });

  it("without a database: the organization's page (the only org of the token)", async () => {
    jest.spyOn(browser, 'openBrowser').mockReturnValue(false);
    const scope = api().get('/v1/orgs').reply(200, ORGS).post('/v1/dashboard/links', {org: 'personal'}).reply(201, LINK);
    const {stdout, exitCode} = await run(RedisDashboard, []);
    expect(exitCode).toBe(0);
    expect(stdout).toBe(`${LINK.url}\n`);
    scope.done();
  });

  it('--json prints the link and never opens a browser', async () => {
    const open = jest.spyOn(browser, 'openBrowser');
    const scope = api().post('/v1/dashboard/links', {org: 'acme'}).reply(201, LINK);
    const {stdout, exitCode} = await run(RedisDashboard, ['--org', 'acme', '--json']);
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout)).toEqual({url: LINK.url, expiresAt: LINK.expiresAt, opened: false});
    expect(open).not.toHaveBeenCalled();
    scope.done();
  });

  it("an unknown database is the server's 404", async () => {
    const scope = api().post('/v1/dashboard/links', {database: 'nope'}).reply(404, apiError('not_found', 'database nope not found'));
    const {stderr, exitCode} = await run(RedisDashboard, ['nope', '--no-open']);
    expect(exitCode).toBe(1);
    expect(stderr).toContain('database nope not found');
    scope.done();
  });
});
