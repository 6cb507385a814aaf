'use strict';
// Helpers every benchmark script shares.
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

/**
 * A TCP port that was free on 127.0.0.1 a moment ago (the kernel picked it for a listener that
 * closed at once). Resolves to the port number; rejects if no listener could be opened.
 */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Numeric `--name value` options of a script: `numberOptions(argv)('reps', 3)` is the number after
 * `--reps` in argv, or 3 when argv has no `--reps`. Every one is a count or a size: a value that is
 * missing or not a positive number ends the script (exit 2) with a line saying so, before it
 * starts anything.
 */
function numberOptions(argv) {
  return (name, dflt) => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return dflt;
    const v = Number(argv[i + 1]);
    if (!(v > 0) || !Number.isFinite(v)) usageError(`--${name} needs a positive number (got ${argv[i + 1] ?? 'nothing'})`);
    return v;
  };
}

/** Ends the script on a bad option: `text` on stderr, exit 2 (nothing was started yet). */
function usageError(text) {
  console.error(`${path.basename(process.argv[1])}: ${text}`);
  process.exit(2);
}

/**
 * A TypeScript module (`entry`: relative to this repository's root, e.g. 'src/cache/index.ts', or
 * absolute, e.g. another checkout's),
 * compiled with esbuild into tmp/bench/ (git-ignored; two levels down like src/<part>/, so the
 * module's own paths to dist/ and data/ hold, and packages resolve from this repository's
 * node_modules), so that a benchmark needs no build. Returns the module's exports, with `__file`
 * the compiled file (a worker script to fork); `{run: false}` compiles without loading it.
 * The file is removed when the process exits.
 */
function loadSource(entry, {run = true} = {}) {
  const dir = path.join(ROOT, 'tmp', 'bench');
  fs.mkdirSync(dir, {recursive: true});
  const file = path.resolve(ROOT, entry);
  const name = path.relative(ROOT, file).replace(/\.ts$/, '').replace(/[^A-Za-z0-9]+/g, '-');
  const out = path.join(dir, `${name}-${process.pid}.js`);
  process.on('exit', () => fs.rmSync(out, {force: true}));
  require('esbuild').buildSync({
    entryPoints: [file],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    outfile: out,
    logLevel: 'error',
  });
  if (!run) return {__file: out};
  const m = require(out);
  m.__file = out;
  return m;
}

module.exports = {freePort, loadSource, numberOptions, usageError};
