#!/usr/bin/env node
// `npm start`: from a fresh clone to a working database in one command. Checks that Redis is
// installed (before a minute of installing and building that could not end well without it),
// installs and builds when needed (scripts/ensure.js), then runs the main job through the built
// CLI: `redfly redis create --region mad --replica-regions ams --plan free`, which starts the
// local platform in the background on first use and prints the database's redis:// URL.
// Arguments after `npm start --` replace those defaults: `npm start -- --name shop --region fra`.
// Runs before anything is installed: Node's built-in modules only.
'use strict';
const {spawnSync} = require('node:child_process');
const path = require('node:path');
const {ensureBuilt, ensureInstalled} = require('./ensure');

const ROOT = path.resolve(__dirname, '..');
const MAIN_JOB = ['redis', 'create', '--region', 'mad', '--replica-regions', 'ams', '--plan', 'free'];
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

module.exports = {redisServerProblem, MAIN_JOB};

if (require.main === module) {
  const problem = redisServerProblem();
  if (problem) {
    console.error(`Error: ${problem}`);
    process.exit(1);
  }
  ensureInstalled();
  ensureBuilt();
  const args = process.argv.slice(2);
  const result = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'run.js'), ...(args.length > 0 ? args : MAIN_JOB)], {stdio: 'inherit'});
  if (result.error) throw result.error;
  process.exit(result.status ?? 1);
}
