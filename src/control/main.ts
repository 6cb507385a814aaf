// The server entry: node dist/control/main.js --port <n> --home <dir> [--host 127.0.0.1]
// Provisioning API + the local provisioner; state under --home.
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {resolve, join} from 'node:path';
import {parseArgs} from 'node:util';
import {INTERNAL_USER} from '../provision/config';
import {checkRedisServer} from '../provision/binary';
import {LocalProvisioner} from '../provision';
import {openStore} from '../store';
import {buildApp} from './app';
import {ensureLocalCredentials, internalSecret} from './bootstrap';
import {loadCatalogue} from './catalogue';
import type {DatabaseService} from './databases';

async function main(): Promise<number> {
  const {values} = parseArgs({
    options: {
      port: {type: 'string', default: '4780'},
      home: {type: 'string'},
      host: {type: 'string', default: '127.0.0.1'},
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid --port ${values.port}`);
    return 2;
  }
  const home = resolve(values.home ?? process.env.REDFLY_HOME ?? join(require('node:os').homedir(), '.redfly'));
  const host = values.host!;
  mkdirSync(home, {recursive: true, mode: 0o700});

  const running = runningServer(home);
  if (running) {
    console.error(`a redfly server already runs for ${home} (pid ${running.pid}, ${running.apiUrl})`);
    return 1;
  }

  const redisServerPath = process.env.REDFLY_REDIS_SERVER ?? 'redis-server';
  try {
    await checkRedisServer(redisServerPath);
  } catch (err) {
    console.error(`redfly server cannot start: ${(err as Error).message}`);
    return 1;
  }

  const store = openStore(home);
  const catalogue = loadCatalogue(home);
  const secret = internalSecret(home);
  let databases: DatabaseService | undefined;
  const provisioner = new LocalProvisioner({
    home,
    internalSecret: secret,
    redisServerPath,
    events: {onProcessEvent: (id, health, message) => databases?.onProcessEvent(id, health, message)},
  });
  let reconciled = false;
  const built = await buildApp({
    store,
    provisioner,
    catalogue,
    // Request logs carry method, URL and status only: no header (tokens) and no body (passwords).
    logger: {level: process.env.REDFLY_LOG_LEVEL ?? 'info', file: join(home, 'server.log')},
    adminAuth: () => ({username: INTERNAL_USER, password: secret}),
    isReady: () => reconciled,
  });
  const {app} = built;
  const log = app.log;
  databases = built.databases;

  let address: string;
  try {
    address = await app.listen({port, host});
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    console.error(
      e.code === 'EADDRINUSE'
        ? `port ${port} on ${host} is already in use; choose another with --port`
        : `cannot listen on ${host}:${port}: ${e.message}`,
    );
    store.close();
    return 1;
  }
  const boundPort = Number(new URL(address).port);
  const apiUrl = `http://${host}:${boundPort}`;
  ensureLocalCredentials(store, home, apiUrl);
  const serverJson = join(home, 'server.json');
  writeFileSync(serverJson, `${JSON.stringify({pid: process.pid, apiUrl, port: boundPort, startedAt: new Date().toISOString()}, null, 2)}\n`);
  log.info({apiUrl, home}, 'listening');

  let stopping: Promise<void> | null = null;
  const shutdown = (signal: string): Promise<void> =>
    (stopping ??= (async () => {
      log.info({signal}, 'stopping');
      await app.close().catch(() => undefined);
      await provisioner.stopAll().catch((err) => log.error({err: (err as Error).message}, 'stopAll failed'));
      // let interrupted jobs record their outcome before the records close
      await Promise.race([databases!.lanes.idle(), new Promise((r) => setTimeout(r, 2000))]);
      store.close();
      rmSync(serverJson, {force: true});
      log.info('stopped');
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    void shutdown(signal).then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', (err) => {
    log.fatal({err}, 'uncaught exception');
    void shutdown('uncaughtException').finally(() => process.exit(1));
  });

  await databases.reconcile();
  reconciled = true;
  console.log(`redfly API listening on ${apiUrl} (state in ${home})`);
  return -1; // keep running
}

function runningServer(home: string): {pid: number; apiUrl: string} | null {
  const file = join(home, 'server.json');
  if (!existsSync(file)) return null;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as {pid: number; apiUrl: string};
    process.kill(info.pid, 0);
    if (info.pid === process.pid) return null;
    // after a crash the recorded pid may belong to some other program by now
    const cmdline = existsSync(`/proc/${info.pid}/cmdline`) ? readFileSync(`/proc/${info.pid}/cmdline`, 'utf8') : 'main.js';
    return cmdline.includes('main.js') ? info : null;
  } catch {
    return null; // stale: the server it describes is gone
  }
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    console.error(`redfly server failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
