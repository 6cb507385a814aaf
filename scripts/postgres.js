// A throwaway PostgreSQL cluster for tests and benchmarks: `initdb` in a temporary folder, one
// server on a free port, one database, stopped and deleted afterwards. Uses the PostgreSQL
// binaries already installed (Debian's `postgresql` package puts them in
// /usr/lib/postgresql/<major>/bin; REDFLY_PG_BIN overrides). initdb and postgres refuse to run as
// root, so when this process is root they run as the `postgres` system user (the Debian package
// creates it). Authentication is `trust`: the cluster holds test data only and lives minutes.
'use strict';
const {execFileSync, spawnSync} = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

/** The folder holding initdb/pg_ctl/postgres, or null when PostgreSQL is not installed. */
function postgresBinDir() {
  if (process.env.REDFLY_PG_BIN) return process.env.REDFLY_PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return null;
  const majors = fs.readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const major of majors) {
    const dir = path.join(root, major, 'bin');
    if (fs.existsSync(path.join(dir, 'initdb'))) return dir;
  }
  return null;
}

function freePort(host) {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const {port} = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function run(bin, args, asPostgres) {
  const argv = asPostgres ? ['runuser', '-u', 'postgres', '--', bin, ...args] : [bin, ...args];
  const r = spawnSync(argv[0], argv.slice(1), {encoding: 'utf8'});
  if (r.status !== 0) {
    throw new Error(`${path.basename(bin)} failed (exit ${r.status}): ${(r.stderr || r.stdout || '').trim().slice(-2000)}`);
  }
  return r.stdout;
}

/**
 * Starts a fresh cluster. Options: `listen` (addresses PostgreSQL listens on, comma-separated;
 * default '127.0.0.1'; give '*' to reach it from network namespaces), `host` (the host name put
 * in the URL; default the first listen address, or 127.0.0.1 for '*'), `database` (default
 * 'redfly'), `port` (default: a free one).
 * Resolves to {url, port, dir, stop()}: `url` is postgres://redfly@host:port/database; `stop()`
 * stops the server (immediate mode: nothing to keep) and deletes its folder; it is idempotent.
 * Throws when PostgreSQL is not installed (naming the package) or when initdb or the start fails
 * (with PostgreSQL's own message).
 */
async function startPostgres(options = {}) {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed: apt-get install postgresql (or set REDFLY_PG_BIN to its bin folder)');
  const listen = options.listen || '127.0.0.1';
  const host = options.host || (listen === '*' ? '127.0.0.1' : listen.split(',')[0].trim());
  const database = options.database || 'redfly';
  const port = options.port || (await freePort(host));
  const asPostgres = process.getuid && process.getuid() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-pg-'));
  if (asPostgres) execFileSync('chown', ['postgres:postgres', dir]);
  const data = path.join(dir, 'data');
  run(path.join(bin, 'initdb'), ['-D', data, '-U', 'redfly', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], asPostgres);
  fs.appendFileSync(path.join(data, 'pg_hba.conf'), 'host all all all trust\n');
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    `-c listen_addresses='${listen}'`,
    // durability is not what a throwaway test cluster is for
    '-c fsync=off -c synchronous_commit=off -c full_page_writes=off',
    '-c max_connections=300',
  ].join(' ');
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], asPostgres);
    } catch {
      // already gone
    }
    fs.rmSync(dir, {recursive: true, force: true});
  };
  try {
    run(path.join(bin, 'pg_ctl'), ['-D', data, '-o', settings, '-l', path.join(dir, 'server.log'), '-w', '-t', '30', 'start'], asPostgres);
    run(path.join(bin, 'createdb'), ['-h', dir, '-p', String(port), '-U', 'redfly', database], asPostgres);
  } catch (err) {
    const log = fs.existsSync(path.join(dir, 'server.log')) ? fs.readFileSync(path.join(dir, 'server.log'), 'utf8').slice(-1500) : '';
    await stop();
    throw new Error(`${err.message}${log ? `\n${log}` : ''}`);
  }
  return {url: `postgres://redfly@${host}:${port}/${database}`, port, dir, stop};
}

module.exports = {startPostgres, postgresBinDir};

if (require.main === module) {
  // `node scripts/postgres.js`: start one, print its URL, stop on Ctrl-C (for trying multi-host by hand).
  startPostgres({listen: process.argv[2] || '127.0.0.1'}).then((pg) => {
    console.log(pg.url);
    const bye = () => pg.stop().then(() => process.exit(0));
    process.on('SIGINT', bye);
    process.on('SIGTERM', bye);
  }, (err) => {
    console.error(err.message);
    process.exit(1);
  });
}
