#!/usr/bin/env node
// Production entry. Start-up is most of what a CLI call costs, so:
// - `--version` is answered from package.json without loading anything else;
// - every other command runs from one bundled file (dist/cli/bundle.js, see
//   scripts/bundle-cli.js) through the shipped oclif.manifest.json;
// - that file is compiled with a V8 code cache, which skips most parsing and compiling. The
//   build ships one next to the bundle; V8 accepts it only from the same Node version, so a
//   user on another version gets one written once, beside the bundle or (read-only install)
//   in the temp folder, keyed by Node version.
'use strict';
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  const {name, version} = require('../package.json');
  process.stdout.write(`${name}/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  // oclif's import() of ESM plugins goes through here (see importThroughEntry in scripts/bundle-cli.js).
  globalThis[Symbol.for('redfly.import')] = (specifier) => import(specifier);
  const cli = loadBundle();
  cli.run(__dirname).catch(cli.handle);
}

function loadBundle() {
  const fs = require('node:fs');
  const path = require('node:path');
  const file = fs.realpathSync(path.join(__dirname, '..', 'dist', 'cli', 'bundle.js'));
  if (process.env.REDFLY_CODE_CACHE === '0') return require(file);
  const vm = require('node:vm');
  const Module = require('node:module');
  const source = fs.readFileSync(file, 'utf8');
  // V8 checks a cache against the source's length only: key caches by the build's content hash.
  const build = /^\/\* redfly-build:(\w+) \*\//.exec(source);
  if (!build) return require(file);
  const shipped = `${file}.${build[1]}.cache`;
  const own = path.join(require('node:os').tmpdir(), `redfly-${build[1]}-${process.version}-${process.arch}.cache`);
  let cachedData;
  for (const candidate of [own, shipped]) {
    try {
      cachedData = fs.readFileSync(candidate);
      break;
    } catch {
      // not there: try the next, or compile without a cache
    }
  }
  const script = new vm.Script(Module.wrap(source), {
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
      const data = script.createCachedData();
      for (const target of [shipped, own]) {
        try {
          const tmp = `${target}.${process.pid}`;
          fs.writeFileSync(tmp, data);
          fs.renameSync(tmp, target);
          return;
        } catch {
          // read-only install: try the temp folder
        }
      }
    });
  }
  return mod.exports;
}
