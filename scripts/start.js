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
const {ensureBuilt, ensureInstalled, ensureRedis} = require('./ensure');

const ROOT = path.resolve(__dirname, '..');
const MAIN_JOB = ['redis', 'create', '--region', 'mad', '--replica-regions', 'ams', '--plan', 'free'];

ensureRedis();
ensureInstalled();
ensureBuilt();
const args = process.argv.slice(2);
const result = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'run.js'), ...(args.length > 0 ? args : MAIN_JOB)], {stdio: 'inherit'});
if (result.error) throw result.error;
process.exit(result.status ?? 1);
