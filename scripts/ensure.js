#!/usr/bin/env node
// Brings a checkout up to date before it runs: installs the locked dependencies when
// node_modules is missing or does not match package-lock.json, and builds when dist/ is missing
// or was built from other sources. `npm start` and `npm test` run it first, so a fresh clone
// needs no separate `npm ci && npm run build`, and a tree that is up to date is not rebuilt.
// Runs before anything is installed: Node's built-in modules only.
//
//   node scripts/ensure.js STEP...  runs the steps in order, stopping at the first failure:
//     redis    fail with the package to install unless redis-server is Redis 7+ (npm start, npm test)
//     install  npm ci if node_modules does not match package-lock.json (npm start, npm test, prepack)
//     build    npm run build if dist/ is missing or built from other sources (same)
//     stamp    record that dist/ is built from the current sources (the last step of npm run build)
'use strict';
const {spawnSync} = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

/** What the build reads, relative to the root: a change to any of them makes dist/ stale. */
const BUILD_INPUTS = ['src', 'scripts/bundle-cli.js', 'scripts/build-native.js', 'scripts/form-data-stub.js', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
/** What the build writes that the CLI, the server and the tests load. */
const BUILD_OUTPUTS = ['dist/cli/bundle.js', 'dist/control/main.js', 'oclif.manifest.json'];
const STAMP = 'dist/.build-inputs';

function filesUnder(root, rel) {
  const full = path.join(root, rel);
  let stat;
  try {
    stat = fs.statSync(full);
  } catch {
    return [];
  }
  if (!stat.isDirectory()) return [rel];
  return fs
    .readdirSync(full)
    .sort()
    .flatMap((name) => filesUnder(root, path.join(rel, name)));
}

/**
 * SHA-256 over the path and content of every build input under `root` (hex). Content, not
 * modification times: a `git checkout` touches files without changing them.
 */
function buildInputsHash(root = ROOT) {
  const hash = crypto.createHash('sha256');
  for (const rel of BUILD_INPUTS.flatMap((input) => filesUnder(root, input))) {
    hash.update(`${rel.split(path.sep).join('/')}\0`);
    hash.update(fs.readFileSync(path.join(root, rel)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** Why `root` needs a build, or undefined when dist/ holds every output, built from the current inputs. */
function buildNeeded(root = ROOT) {
  const missing = BUILD_OUTPUTS.find((rel) => !fs.existsSync(path.join(root, rel)));
  if (missing) return `${missing} is missing`;
  let stamp;
  try {
    stamp = fs.readFileSync(path.join(root, STAMP), 'utf8').trim();
  } catch {
    return 'dist/ does not say which sources it was built from';
  }
  return stamp === buildInputsHash(root) ? undefined : 'the sources changed since the last build';
}

function writeBuildStamp(root = ROOT) {
  fs.writeFileSync(path.join(root, STAMP), `${buildInputsHash(root)}\n`);
}

/**
 * Why `root` needs `npm ci`, or undefined when every package that package-lock.json requires is
 * installed at its locked version. npm records what it installed in node_modules/.package-lock.json;
 * packages marked optional (other platforms' binaries) may rightly be absent.
 */
function installNeeded(root = ROOT) {
  const read = (rel) => JSON.parse(fs.readFileSync(path.join(root, rel), 'utf8'));
  let installed;
  try {
    installed = read('node_modules/.package-lock.json').packages ?? {};
  } catch {
    return 'node_modules is missing';
  }
  const locked = read('package-lock.json').packages ?? {};
  for (const [key, entry] of Object.entries(locked)) {
    if (key === '') continue;
    const have = installed[key];
    if (!have) {
      if (entry.optional || entry.devOptional || entry.peer) continue;
      return `${key.replace(/^node_modules\//, '')} is not installed`;
    }
    if (have.version !== entry.version) {
      return `${key.replace(/^node_modules\//, '')} is ${have.version}, package-lock.json says ${entry.version}`;
    }
  }
  return undefined;
}

const INSTALL_REDIS = '`sudo apt-get install -y redis-server redis-tools` on Debian/Ubuntu, `brew install redis` on macOS';

/**
 * Why the redis-server the platform would run ($REDFLY_REDIS_SERVER, else redis-server on PATH)
 * cannot serve, or undefined when it is Redis 7 or later. The server makes the same check
 * (src/provision/local.ts); this one answers before the install and the build.
 */
function redisServerProblem(env = process.env) {
  const binary = env.REDFLY_REDIS_SERVER || 'redis-server';
  const where = env.REDFLY_REDIS_SERVER ? `REDFLY_REDIS_SERVER is "${binary}", which does not run` : 'redis-server is not on PATH';
  const result = spawnSync(binary, ['--version'], {encoding: 'utf8', env});
  if (result.error || result.status !== 0) {
    return `redfly needs Redis 7 or later and ${where}. Install the redis-server package: ${INSTALL_REDIS}.`;
  }
  const version = /v=(\d+)\.(\d+)\.(\d+)/.exec(result.stdout);
  if (version && Number(version[1]) < 7) {
    return `${binary} is Redis ${version.slice(1).join('.')}; redfly needs Redis 7 or later (ACL users, multi-part AOF). Install a newer redis-server package: ${INSTALL_REDIS}.`;
  }
  return undefined;
}

/** Runs npm (the one running this script when there is one), inheriting the terminal; exits on failure. */
function npm(args) {
  const cli = process.env.npm_execpath;
  const [command, argv] = cli && /\.[cm]?js$/.test(cli) ? [process.execPath, [cli, ...args]] : ['npm', args];
  const result = spawnSync(command, argv, {cwd: ROOT, stdio: 'inherit'});
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function ensureInstalled() {
  const reason = installNeeded();
  if (!reason) return;
  console.error(`redfly: installing dependencies (${reason}): npm ci`);
  npm(['ci', '--no-audit', '--no-fund']);
}

function ensureBuilt() {
  const reason = buildNeeded();
  if (!reason) return;
  console.error(`redfly: building (${reason}): npm run build`);
  npm(['run', 'build']);
}

function ensureRedis() {
  const problem = redisServerProblem();
  if (!problem) return;
  console.error(`Error: ${problem}`);
  process.exit(1);
}

module.exports = {buildInputsHash, buildNeeded, installNeeded, redisServerProblem, writeBuildStamp, ensureRedis, ensureInstalled, ensureBuilt};

if (require.main === module) {
  const steps = {redis: ensureRedis, install: ensureInstalled, build: ensureBuilt, stamp: () => writeBuildStamp()};
  const args = process.argv.slice(2);
  const unknown = args.find((step) => !(step in steps));
  if (args.length === 0 || unknown) {
    console.error(`usage: node scripts/ensure.js redis|install|build|stamp ...${unknown ? ` (unknown step: ${unknown})` : ''}`);
    process.exit(2);
  }
  for (const step of args) steps[step]();
}
