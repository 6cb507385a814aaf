import '../helpers/oclif-env';
import * as fs from 'node:fs';
import * as path from 'node:path';
import nock from 'nock';
import * as localServer from '../../../src/cli/local-server';
import * as prompts from '../../../src/cli/prompts';
import AuthLogin from '../../../src/commands/auth/login';
import AuthLogout from '../../../src/commands/auth/logout';
import AuthToken from '../../../src/commands/auth/token';
import AuthWhoami from '../../../src/commands/auth/whoami';
import {API, api, apiError, run, useFakeApi} from '../helpers/harness';

const REMOTE = 'http://remote.redfly.test';
const me = {tokenId: 'tok_1', tokenName: 'laptop', orgs: ['personal', 'acme']};

describe('auth', () => {
  const {home} = useFakeApi();
  afterEach(() => jest.restoreAllMocks());

  it('login checks the token, saves it 0600, and later commands use it', async () => {
    delete process.env.REDFLY_API_URL;
    delete process.env.REDFLY_ACCESS_TOKEN;
    const scope = nock(REMOTE, {reqheaders: {authorization: 'Bearer rf_remote'}})
      .get('/v1/whoami').reply(200, me)
      .get('/v1/whoami').reply(200, me);
    const login = await run(AuthLogin, ['--api-url', `${REMOTE}/`, '--access-token', 'rf_remote']);
    expect(login.exitCode).toBe(0);
    expect(login.stdout).toContain(`Logged in to ${REMOTE} as laptop (organizations: personal, acme).`);
    const file = path.join(home(), 'config.json');
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({apiUrl: REMOTE, token: 'rf_remote'});
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    const whoami = await run(AuthWhoami, ['--json']);
    expect(JSON.parse(whoami.stdout)).toEqual({apiUrl: REMOTE, ...me});
    scope.done();

    const token = await run(AuthToken, []);
    expect(token.stdout).toBe('rf_remote\n');

    const logout = await run(AuthLogout, []);
    expect(logout.stdout).toBe(`Logged out (removed ${file}).\n`);
    expect(fs.existsSync(file)).toBe(false);
    expect((await run(AuthLogout, ['--json'])).stdout).toBe('{\n  "loggedOut": false\n}\n');
  });

  it('login refuses a token the API refuses, and saves nothing', async () => {
    const scope = nock(REMOTE).get('/v1/whoami').reply(401, apiError('unauthorized', 'invalid access token'));
    const {stderr, exitCode} = await run(AuthLogin, ['--api-url', REMOTE, '-t', 'bad']);
    expect(exitCode).toBe(1);
    expect(stderr).toContain('invalid access token');
    expect(fs.existsSync(path.join(home(), 'config.json'))).toBe(false);
    scope.done();
  });

  it('login asks for the URL and a masked token at a terminal', async () => {
    delete process.env.REDFLY_API_URL;
    delete process.env.REDFLY_ACCESS_TOKEN;
    const input = jest.spyOn(prompts, 'input').mockResolvedValue(REMOTE);
    const password = jest.spyOn(prompts, 'password').mockResolvedValue('rf_typed');
    const scope = nock(REMOTE, {reqheaders: {authorization: 'Bearer rf_typed'}}).get('/v1/whoami').reply(200, me);
    const {exitCode} = await run(AuthLogin, [], {interactive: true});
    expect(exitCode).toBe(0);
    expect(input.mock.calls[0][0].validate!('not a url')).toEqual(expect.stringContaining('http'));
    expect(password.mock.calls[0][0].message).toBe('Access token:');
    scope.done();
  });

  it('flags and env win over the saved login; the saved token goes only to its own API', async () => {
    fs.writeFileSync(path.join(home(), 'config.json'), JSON.stringify({apiUrl: REMOTE, token: 'rf_remote'}));
    const scope = api().get('/v1/whoami').reply(200, me);
    expect((await run(AuthWhoami, [])).stdout).toContain(`API: ${API}`);
    scope.done();

    delete process.env.REDFLY_ACCESS_TOKEN;
    const remote = nock(REMOTE, {reqheaders: {authorization: 'Bearer rf_remote'}}).get('/v1/whoami').reply(200, me);
    expect((await run(AuthWhoami, ['--api-url', REMOTE])).exitCode).toBe(0);
    remote.done();
    const other = nock(API, {badheaders: ['authorization']}).get('/v1/whoami').reply(401, apiError('unauthorized', 'no token'));
    expect((await run(AuthWhoami, [])).exitCode).toBe(1);
    other.done();
  });

  it('whoami prints the API, token and organizations', async () => {
    const scope = api().get('/v1/whoami').reply(200, me);
    const {stdout} = await run(AuthWhoami, []);
    expect(stdout).toBe(`API: ${API}\nToken: laptop (tok_1)\nOrganizations: personal, acme\n`);
    scope.done();
  });

  it('token with flags prints that token', async () => {
    expect((await run(AuthToken, ['--json'])).stdout).toBe(`{\n  "apiUrl": "${API}",\n  "token": "test-token"\n}\n`);
  });

  it('without any API configured and autostart off: a clear error naming how to start the server', async () => {
    delete process.env.REDFLY_API_URL;
    delete process.env.REDFLY_ACCESS_TOKEN;
    const {stderr, exitCode} = await run(AuthWhoami, []);
    expect(exitCode).toBe(1);
    expect(stderr).toContain('No redfly API is configured and the local server');
    expect(stderr).toContain('is not running');
    expect(stderr).toContain('redfly server start');
  });

  it('uses the local server\'s credentials when nothing else is configured', async () => {
    delete process.env.REDFLY_API_URL;
    delete process.env.REDFLY_ACCESS_TOKEN;
    fs.writeFileSync(path.join(home(), 'server.json'), JSON.stringify({pid: process.pid, apiUrl: API, port: 1, startedAt: ''}));
    // the recorded pid (this test process) stands in for a running server, which the CLI checks
    // is a redfly server and not a program that was given a crashed server's pid
    jest.spyOn(localServer, 'isServerPid').mockImplementation((pid) => pid === process.pid);
    fs.writeFileSync(path.join(home(), 'local-credentials.json'), JSON.stringify({apiUrl: API, token: 'rf_local'}));
    const scope = nock(API, {reqheaders: {authorization: 'Bearer rf_local'}}).get('/v1/whoami').reply(200, me);
    const {stdout, exitCode} = await run(AuthWhoami, []);
    expect(exitCode).toBe(0);
    expect(stdout).toContain(`API: ${API}`);
    scope.done();
  });
});
