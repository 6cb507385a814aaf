// The README's quick start on a fresh clone, the way CI gets the code: `git clone` of this
// repository into a temp folder (plus the working tree's uncommitted changes and new files, so
// what is tested is what a commit of it would be), no dist/, then the README's two commands as
// they stand there. One shortcut, for time: node_modules is hard-linked from this checkout
// instead of a fresh `npm ci`, which compiles better-sqlite3 from source (a minute on an idle
// 2-core machine, several under load) and is what CI's own `npm ci` and the packaging test
// (pack.test.ts) already exercise; `npm start` sees the locked versions installed and skips
// its install step (that decision: test/unit/scripts/ensure.test.ts).
import {execFileSync, spawnSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {processesOf, refused, ROOT, tempHome} from './helpers';

jest.setTimeout(900_000);

let work: string;
let clone: string;
let home: string;

/** The shell commands of the README's quick start (its first sh block), comments and blank lines left out. */
function quickStartCommands(readme: string): string[] {
  const section = readme.slice(readme.indexOf('## Quick start'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1];
  return block
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean);
}

/** A user's shell in the clone: no CI, no redfly settings but a temp home and a free port. */
function run(command: string, args: string[]) {
  const env: NodeJS.ProcessEnv = {...process.env, REDFLY_HOME: home, REDFLY_SERVER_PORT: '0'};
  for (const key of ['CI', 'NODE_ENV', 'REDFLY_API_URL', 'REDFLY_ACCESS_TOKEN', 'REDFLY_ORG', 'REDFLY_REGION', 'REDFLY_AUTOSTART', 'JEST_WORKER_ID']) delete env[key];
  const r = spawnSync(command, args, {cwd: clone, env, encoding: 'utf8'});
  return {stdout: r.stdout, stderr: r.stderr, exitCode: r.status};
}

beforeAll(() => {
  work = tempHome('redfly-clone-');
  clone = path.join(work, 'redfly');
  home = path.join(work, 'home');
  execFileSync('git', ['clone', '--quiet', ROOT, clone]);
  const head = execFileSync('git', ['rev-parse', 'HEAD'], {cwd: ROOT, encoding: 'utf8'}).trim();
  execFileSync('git', ['checkout', '--quiet', '--detach', head], {cwd: clone});
  const diff = execFileSync('git', ['diff', 'HEAD', '--binary'], {cwd: ROOT});
  if (diff.length > 0) execFileSync('git', ['apply', '--whitespace=nowarn'], {cwd: clone, input: diff});
  const untracked = execFileSync('git', ['ls-files', '--others', '--exclude-standard', '-z'], {cwd: ROOT, encoding: 'utf8'}).split('\0').filter(Boolean);
  for (const rel of untracked) {
    fs.mkdirSync(path.dirname(path.join(clone, rel)), {recursive: true});
    fs.copyFileSync(path.join(ROOT, rel), path.join(clone, rel));
  }
  try {
    execFileSync('cp', ['-al', path.join(ROOT, 'node_modules'), clone]);
  } catch {
    // another file system: links cannot cross it
    execFileSync('cp', ['-a', path.join(ROOT, 'node_modules'), clone]);
  }
});

afterAll(() => {
  if (clone && fs.existsSync(path.join(home, 'server.json'))) run(process.execPath, ['bin/run.js', 'server', 'stop']);
  if (work) fs.rmSync(work, {recursive: true, force: true});
});

test('the quick start is two commands: one runs the main job, one runs every test', () => {
  expect(quickStartCommands(fs.readFileSync(path.join(clone, 'README.md'), 'utf8'))).toEqual(['npm start', 'npm test']);
  expect(fs.existsSync(path.join(clone, 'dist'))).toBe(false);
  expect(fs.existsSync(path.join(clone, 'oclif.manifest.json'))).toBe(false);
});

test('npm start builds the fresh clone, starts the platform and prints the URL of a database with a read replica', async () => {
  const started = Date.now();
  const r = run('npm', ['start']);
  console.log(`npm start on a fresh clone took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (r.exitCode !== 0) throw new Error(`npm start: exit ${r.exitCode}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  expect(r.stderr).toContain('redfly: building (dist/cli/bundle.js is missing)');
  expect(r.stderr).not.toContain('redfly: installing');
  expect(r.stderr).toContain('Starting the local redfly server');
  expect(r.stdout).toMatch(/is ready in mad with replicas in ams\./);
  const url = /^URL: (redis:\/\/\S+)$/m.exec(r.stdout)?.[1];
  expect(url).toBeDefined();
  expect(execFileSync('redis-cli', ['--no-auth-warning', '-u', url!, 'PING'], {encoding: 'utf8'}).trim()).toBe('PONG');

  // what the platform runs comes from the clone
  const server = JSON.parse(fs.readFileSync(path.join(home, 'server.json'), 'utf8')) as {pid: number; port: number};
  expect(processesOf(home).find((p) => p.pid === server.pid)?.command).toContain(path.join(clone, 'dist', 'control', 'main.js'));

  // The README's next step stops it all.
  expect(run(process.execPath, ['bin/run.js', 'server', 'stop']).exitCode).toBe(0);
  expect(processesOf(home)).toEqual([]);
  expect(await refused(Number(new URL(url!).port))).toBe(true);
});

test('npm test then runs the tests without building again', () => {
  // The whole suite includes this test: a path keeps it from running itself inside the clone.
  const r = run('npm', ['test', '--', 'test/unit/scripts']);
  const output = r.stdout + r.stderr;
  if (r.exitCode !== 0) throw new Error(`npm test: exit ${r.exitCode}\n${output}`);
  expect(output).not.toContain('redfly: building');
  expect(output).not.toContain('redfly: installing');
  expect(output).toMatch(/Tests:\s+\d+ passed, \d+ total/);
});
