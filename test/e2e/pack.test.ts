// The package as users get it: `npm pack`, install the tarball into an empty folder, run it.
// The install compiles better-sqlite3 from source where no prebuilt binary can be fetched
// (about a minute here), hence the long timeout; the time is printed, not asserted.
import {execFileSync, spawnSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {assertBuilt, ROOT, tempHome} from './helpers';

jest.setTimeout(600_000);

let work: string;
let installed: string;

beforeAll(() => {
  assertBuilt();
  work = tempHome('redfly-pack-');
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], {cwd: ROOT, encoding: 'utf8'});
  const tarball = path.join(work, packed.trim().split('\n').pop()!);
  installed = path.join(work, 'app');
  fs.mkdirSync(installed);
  const started = Date.now();
  execFileSync('npm', ['install', '--no-audit', '--no-fund', tarball], {cwd: installed, stdio: 'ignore'});
  console.log(`npm install of the packed tarball took ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

afterAll(() => {
  if (work) fs.rmSync(work, {recursive: true, force: true});
});

function redfly(...args: string[]) {
  const env: NodeJS.ProcessEnv = {...process.env, REDFLY_HOME: path.join(work, 'home'), REDFLY_AUTOSTART: '0'};
  delete env.REDFLY_API_URL;
  delete env.REDFLY_ACCESS_TOKEN;
  // jest sets NODE_ENV=test; users' shells often say development. Neither may change the CLI.
  env.NODE_ENV = 'development';
  const r = spawnSync(path.join(installed, 'node_modules', '.bin', 'redfly'), args, {env, encoding: 'utf8'});
  return {stdout: r.stdout, stderr: r.stderr, exitCode: r.status};
}

it('ships the manifest and the bundle, and redfly --help lists every topic', () => {
  const pkg = path.join(installed, 'node_modules', 'redfly');
  for (const file of ['oclif.manifest.json', 'dist/cli/bundle.js', 'bin/run.js']) {
    expect(fs.existsSync(path.join(pkg, file))).toBe(true);
  }
  const help = redfly('--help');
  expect(help.exitCode).toBe(0);
  expect(help.stderr).toBe('');
  for (const topic of ['auth', 'orgs', 'redis', 'regions', 'server']) expect(help.stdout).toMatch(new RegExp(`^  ${topic}\\s`, 'm'));
});

it('every command has help with a summary, a description and examples', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'node_modules', 'redfly', 'oclif.manifest.json'), 'utf8'));
  for (const [id, command] of Object.entries<{summary?: string; description?: string; examples?: string[]}>(manifest.commands)) {
    expect({id, summary: Boolean(command.summary), description: Boolean(command.description), examples: (command.examples ?? []).length > 0}).toEqual({
      id,
      summary: true,
      description: true,
      examples: true,
    });
  }
  const help = redfly('redis', 'create', '--help');
  expect(help.stdout).toContain('EXAMPLES');
  expect(help.stdout).toContain('$ redfly redis create --org personal --name my-cache');
});

it('runs a command that talks to the API (a clear JSON error when none is there)', () => {
  const result = redfly('redis', 'list', '--json', '--api-url', 'http://127.0.0.1:1');
  expect(result.exitCode).toBe(1);
  expect(JSON.parse(result.stdout).error.code).toBe('network_error');
  expect(result.stderr).toBe('');
  expect(redfly('--version').stdout).toMatch(/^redfly\/\d+\.\d+\.\d+ /);
});
