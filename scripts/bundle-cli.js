#!/usr/bin/env node
// Bundles the compiled CLI (dist/commands/**, dist/cli, dist/api) with @oclif/core and axios into
// one file, dist/cli/bundle.js, because resolving and compiling a few hundred small modules at
// every start costs more than the command itself. The bundle exports COMMANDS, which oclif
// loads through the "explicit" command strategy in package.json. Modules only some commands
// need (prompts) stay outside and load from node_modules on demand.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');

function commandFiles(dir, prefix = []) {
  const out = [];
  for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
    if (entry.isDirectory()) out.push(...commandFiles(path.join(dir, entry.name), [...prefix, entry.name]));
    else if (entry.name.endsWith('.js')) out.push({id: [...prefix, entry.name.slice(0, -3)].join(':'), file: path.join(dir, entry.name)});
  }
  return out;
}

/**
 * axios, follow-redirects and https-proxy-agent require https, http2, tls and crypto at import
 * but use them only for https URLs, HTTP/2, proxies and multipart bodies; a proxy loads the
 * real module on first property access instead.
 */
function lazyBuiltins(names) {
  const filter = new RegExp(`^(node:)?(${names.join('|')})$`);
  return {
    name: 'lazy-builtins',
    setup(build) {
      build.onResolve({filter}, (args) =>
        args.importer.includes(`${path.sep}node_modules${path.sep}`)
          ? {path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin'}
          : undefined,
      );
      build.onLoad({filter: /.*/, namespace: 'lazy-builtin'}, (args) => ({
        contents: `let real;
const load = () => (real ??= require('node:${args.path}'));
module.exports = new Proxy({}, {
  // __importDefault asks for __esModule at import time; answering it must not load the module.
  get: (_, key) => (key === '__esModule' ? undefined : load()[key]),
  has: (_, key) => key in load(),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, key) => {
    const d = Object.getOwnPropertyDescriptor(load(), key);
    return d && {...d, configurable: true};
  },
});`,
        loader: 'js',
      }));
    },
  };
}

/**
 * oclif sorts the manifest's command ids with localeCompare, whose first call builds an ICU
 * collator (about 8 ms of every start). Command ids are lowercase ASCII, where plain code-point
 * order is the same order.
 */
function ordinalCommandSort() {
  const needle = '.sort((a, b) => a.id.localeCompare(b.id))';
  return {
    name: 'ordinal-command-sort',
    setup(build) {
      build.onLoad({filter: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/}, (args) => {
        const source = fs.readFileSync(args.path, 'utf8');
        if (!source.includes(needle)) {
          console.warn('bundle-cli: oclif plugin.js changed; command sort left as is');
          return undefined;
        }
        return {contents: source.replace(needle, '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))'), loader: 'js'};
      });
    },
  };
}

/**
 * oclif import()s ESM plugins (@oclif/plugin-not-found's hook, @oclif/plugin-autocomplete's
 * commands). Inside the bundle, which bin/run.js compiles with vm.Script and a code cache, Node 20
 * loses the import() callback of functions restored from the cache (ERR_VM_DYNAMIC_IMPORT_
 * CALLBACK_MISSING). So oclif's loader calls the import() of bin/run.js, a plain module, when
 * bin/run.js provides one (Symbol.for('redfly.import')); plain require of the bundle needs none.
 */
function importThroughEntry() {
  const needle = 'await import(';
  return {
    name: 'import-through-entry',
    setup(build) {
      build.onLoad({filter: /@oclif[\\/]core[\\/]lib[\\/]module-loader\.js$/}, (args) => {
        const source = fs.readFileSync(args.path, 'utf8');
        if (!source.includes(needle)) {
          console.warn('bundle-cli: oclif module-loader.js changed; import() left as is');
          return undefined;
        }
        const viaEntry = "await (globalThis[Symbol.for('redfly.import')] || ((s) => import(s)))(";
        return {contents: source.split(needle).join(viaEntry), loader: 'js'};
      });
    },
  };
}

async function main() {
  const commands = commandFiles(path.join(DIST, 'commands'));
  const entry = [
    "'use strict';",
    "const oclif = require('@oclif/core');",
    // Getters: oclif reads COMMANDS[id] for the one command it runs, so only that command's
    // modules are evaluated.
    'const COMMANDS = {};',
    ...commands.map(
      ({id, file}) =>
        `Object.defineProperty(COMMANDS, ${JSON.stringify(id)}, {enumerable: true, get: () => require(${JSON.stringify(file)}).default});`,
    ),
    'exports.COMMANDS = COMMANDS;',
    // Commands come from this bundle, never from TypeScript sources: without this, NODE_ENV=
    // development or test makes oclif look for typescript/ts-node and warn on every command.
    'exports.run = (dir) => {',
    '  oclif.settings.enableAutoTranspile = false;',
    '  return oclif.execute({dir});',
    '};',
    "exports.handle = (error) => require('@oclif/core/handle').handle(error);",
  ].join('\n');
  const result = await esbuild.build({
    stdin: {contents: entry, resolveDir: DIST, sourcefile: 'cli-entry.js', loader: 'js'},
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: !process.env.NO_MINIFY,
    keepNames: true,
    legalComments: 'none',
    outfile: path.join(DIST, 'cli', 'bundle.js'),
    // typescript/ts-node/tsx: oclif only reaches for them in development mode.
    external: ['typescript', 'ts-node', 'tsx', '@inquirer/prompts'],
    // axios requires form-data (and through it mime-db, 140 KB) for multipart bodies, which the
    // API never takes; Node's own FormData stands in.
    alias: {'form-data': path.join(__dirname, 'form-data-stub.js')},
    plugins: [lazyBuiltins(['https', 'http2', 'tls', 'crypto']), ordinalCommandSort(), importThroughEntry()],
    metafile: true,
    logLevel: 'warning',
  });
  // V8 checks a code cache against the source's length only, so bin/run.js keys its caches by
  // this content hash: a rebuilt bundle never runs with the compiled code of an earlier one.
  const out = path.join(DIST, 'cli', 'bundle.js');
  const code = fs.readFileSync(out, 'utf8');
  const id = require('node:crypto').createHash('sha256').update(code).digest('hex').slice(0, 16);
  fs.writeFileSync(out, `/* redfly-build:${id} */\n${code}`);
  const bytes = fs.statSync(out).size;
  console.log(`bundled ${commands.length} commands into dist/cli/bundle.js (${Math.round(bytes / 1024)} KB)`);
  if (process.env.BUNDLE_META) fs.writeFileSync(process.env.BUNDLE_META, JSON.stringify(result.metafile));
}

/**
 * Runs the built CLI once so bin/run.js writes dist/cli/bundle.js.<build>.cache (V8 code cache) that
 * ships with the package. It lists databases from a stand-in API on a loopback port chosen by
 * the system, so the cache holds the code of a successful call (oclif, parsing, the API client,
 * JSON output) that most commands share.
 */
async function warmCache() {
  const http = require('node:http');
  const {spawn} = require('node:child_process');
  const bundle = path.join(DIST, 'cli', 'bundle.js');
  const id = /^\/\* redfly-build:(\w+) \*\//.exec(fs.readFileSync(bundle, 'utf8'))[1];
  for (const old of fs.readdirSync(path.dirname(bundle)).filter((f) => f.endsWith('.cache'))) {
    fs.rmSync(path.join(path.dirname(bundle), old));
  }
  const cache = `${bundle}.${id}.cache`;
  const server = http.createServer((req, res) => {
    res.writeHead(200, {'content-type': 'application/json'});
    res.end(JSON.stringify({databases: [], nextCursor: null}));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const apiUrl = `http://127.0.0.1:${server.address().port}`;
  try {
    await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'redis', 'list', '--json'], {
        env: {...process.env, REDFLY_API_URL: apiUrl, REDFLY_ACCESS_TOKEN: 'warm-up'},
        stdio: 'ignore',
      });
      child.on('error', reject);
      child.on('exit', resolve);
    });
  } finally {
    server.close();
  }
  console.log(fs.existsSync(cache) ? `wrote ${path.relative(ROOT, cache)}` : 'warning: no code cache written');
}

if (process.argv.includes('--warm-cache')) {
  warmCache().catch((error) => {
    console.error(error);
    process.exit(1);
  });
  return;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
