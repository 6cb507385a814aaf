#!/usr/bin/env node
// Production entry. Start-up is most of what a CLI call costs, so:
// - `--version` is answered from package.json without loading anything else;
// - every other command runs from one bundled file (dist/cli/bundle.js, see
//   scripts/bundle-cli.js) through the shipped oclif.manifest.json;
// - that file is compiled with a V8 code cache kept next to it (bundle.js.cache), which skips
//   most of the parsing and compiling; a cache V8 rejects (other Node version) is rewritten.
'use strict';
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  const {name, version} = require('../package.json');
  process.stdout.write(`${name}/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  const cli = loadBundle();
  cli.run(__dirname).catch(cli.handle);
}

function loadBundle() {
  const fs = require('node:fs');
  const path = require('node:path');
  const file = fs.realpathSync(path.join(__dirname, '..', 'dist', 'cli', 'bundle.js'));
  const cacheFile = `${file}.cache`;
  if (process.env.REDFLY_CODE_CACHE === '0') return require(file);
  const vm = require('node:vm');
  const Module = require('node:module');
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // first run, or a read-only install without a cache: compile normally
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  // Registered before it runs, like require() does, so oclif's own require of the bundle (the
  // command target in package.json) gets this same instance.
  Module._cache[file] = mod;
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
  mod.loaded = true;
  if (!cachedData || script.cachedDataRejected || process.env.REDFLY_WRITE_CODE_CACHE === '1') {
    // At exit, so the cache also holds the functions this run compiled.
    process.once('exit', () => {
      try {
        const tmp = `${cacheFile}.${process.pid}`;
        fs.writeFileSync(tmp, script.createCachedData());
        fs.renameSync(tmp, cacheFile);
      } catch {
        // not writable (global install): run without a cache
      }
    });
  }
  return mod.exports;
}
