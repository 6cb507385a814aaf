// The package as users get it: `npm pack`, `npm install -g` of the tarball into an empty
// prefix, then the installed `redfly` on its own: help, a command against the API, and the main
// job (autostart of the server from the installed files, a working URL, a clean stop).
// The install takes its dependencies from the npm registry or the local cache (--prefer-offline)
// and compiles better-sqlite3 from source where no prebuilt binary can be fetched (about a
// minute on an idle machine, five under load), hence the long timeout; the time is printed, not
// asserted.
import {execFileSync, spawnSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {assertBuilt, processesOf, refused, ROOT, tempHome} from './helpers';

jest.setTimeout(900_000);

let work: string;
/** the empty prefix of the global install: bin/redfly, lib/node_modules/redfly */
let prefix: string;
let pkg: string;
let mainJobHome: string | undefined;

beforeAll(() => {
  assertBuilt();
  work = tempHome('redfly-pack-');
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], {cwd: ROOT, encoding: 'utf8'});
  const tarball = path.join(work, packed.trim().split('\n').pop()!);
  prefix = path.join(work, 'prefix');
  fs.mkdirSync(prefix);
  const started = Date.now();
  execFileSync('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], {cwd: work, stdio: 'ignore'});
  console.log(`npm install -g of the packed tarball took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  pkg = path.join(prefix, 'lib', 'node_modules', 'redfly');
});

afterAll(() => {
  // a failed assertion must not leave the main job's server running
  if (mainJobHome && fs.existsSync(path.join(mainJobHome, 'server.json'))) redfly(['server', 'stop'], {REDFLY_HOME: mainJobHome});
  if (work) fs.rmSync(work, {recursive: true, force: true});
});

/** The installed `redfly`, found on PATH as a user's shell finds it. */
function redfly(args: string[], extra: NodeJS.ProcessEnv = {REDFLY_AUTOSTART: '0'}) {
  const env: NodeJS.ProcessEnv = {...process.env, REDFLY_HOME: path.join(work, 'home'), PATH: `${path.join(prefix, 'bin')}${path.delimiter}${process.env.PATH}`};
  for (const key of ['CI', 'REDFLY_API_URL', 'REDFLY_ACCESS_TOKEN', 'REDFLY_ORG', 'REDFLY_REGION', 'REDFLY_AUTOSTART', 'REDFLY_SERVER_PORT']) delete env[key];
  // jest sets NODE_ENV=test; users' shells often say development. Neither may change the CLI.
  env.NODE_ENV = 'development';
  const r = spawnSync('redfly', args, {env: {...env, ...extra}, encoding: 'utf8'});
  return {stdout: r.stdout, stderr: r.stderr, exitCode: r.status};
}

it('ships the manifest and the bundle, and redfly --help lists every topic', () => {
  for (const file of ['oclif.manifest.json', 'dist/cli/bundle.js', 'bin/run.js']) {
    expect(fs.existsSync(path.join(pkg, file))).toBe(true);
  }
  const help = redfly(['--help']);
  expect(help.exitCode).toBe(0);
  expect(help.stderr).toBe('');
  for (const topic of ['auth', 'orgs', 'redis', 'regions', 'server']) expect(help.stdout).toMatch(new RegExp(`^  ${topic}\\s`, 'm'));
});

it('every command has help with a summary, a description and examples', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(pkg, 'oclif.manifest.json'), 'utf8'));
  for (const [id, command] of Object.entries<{summary?: string; description?: string; examples?: string[]}>(manifest.commands)) {
    expect({id, summary: Boolean(command.summary), description: Boolean(command.description), examples: (command.examples ?? []).length > 0}).toEqual({
      id,
      summary: true,
      description: true,
      examples: true,
    });
  }
  const help = redfly(['redis', 'create', '--help']);
  expect(help.stdout).toContain('EXAMPLES');
  expect(help.stdout).toContain('$ redfly redis create --org personal --name my-cache');
});

it('runs a command that talks to the API (a clear JSON error when none is there)', () => {
  const result = redfly(['redis', 'list', '--json', '--api-url', 'http://127.0.0.1:1']);
  expect(result.exitCode).toBe(1);
  expect(JSON.parse(result.stdout).error.code).toBe('network_error');
  expect(result.stderr).toBe('');
  expect(redfly(['--version']).stdout).toMatch(/^redfly\/\d+\.\d+\.\d+ /);
});

it('redis create autostarts the server from the installed files and prints a URL that answers; server stop leaves nothing behind', async () => {
  const home = (mainJobHome = path.join(work, 'home-main-job'));
  const env = {REDFLY_HOME: home, REDFLY_SERVER_PORT: '0'};
  const created = redfly(['redis', 'create', '--region', 'mad', '--no-replicas', '--plan', 'free'], env);
  expect({exitCode: created.exitCode, stderr: created.stderr}).toEqual({exitCode: 0, stderr: expect.stringContaining('Starting the local redfly server')});
  const url = /^URL: (redis:\/\/\S+)$/m.exec(created.stdout)?.[1];
  expect(url).toBeDefined();
  expect(execFileSync('redis-cli', ['--no-auth-warning', '-u', url!, 'PING'], {encoding: 'utf8'}).trim()).toBe('PONG');
  expect(execFileSync('redis-cli', ['--no-auth-warning', '-u', url!, 'SET', 'k', 'from-the-installed-package'], {encoding: 'utf8'}).trim()).toBe('OK');
  expect(execFileSync('redis-cli', ['--no-auth-warning', '-u', url!, 'GET', 'k'], {encoding: 'utf8'}).trim()).toBe('from-the-installed-package');

  const server = JSON.parse(fs.readFileSync(path.join(home, 'server.json'), 'utf8')) as {pid: number; port: number};
  const running = processesOf(home);
  expect(running.find((p) => p.pid === server.pid)?.command).toContain(path.join(fs.realpathSync(pkg), 'dist', 'control', 'main.js'));
  expect(running.some((p) => p.command.startsWith('redis-server') || p.command.includes('/redis-server '))).toBe(true);

  const stopped = redfly(['server', 'stop'], env);
  expect(stopped.exitCode).toBe(0);
  expect(processesOf(home)).toEqual([]);
  expect(fs.existsSync(path.join(home, 'server.json'))).toBe(false);
  expect(await refused(server.port)).toBe(true);
  expect(await refused(Number(new URL(url!).port))).toBe(true);
});
