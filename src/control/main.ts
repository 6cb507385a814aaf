// The server entry: node dist/control/main.js --port <n> --home <dir> [--listen 127.0.0.1]
//   [--public-host NAME] [--tls auto|on|off] [--tls-cert F --tls-key F [--tls-ca F]]
//   [--simulate-latency] [--gateway-port-base <n>] [--gateway-workers <n>]
//   (--host: the old name of --listen; --gateway-workers defaults to REDFLY_GATEWAY_WORKERS, else 1)
//   [--role control|region [--region X]]   (with REDFLY_DATABASE_URL: one node of several hosts)
// Provisioning API, the local provisioner, and the data plane (region gateway + regional
// cache); state under --home. With --role, a node of a multi-host deployment (src/hosts): a
// control node serves the API only; a region host also runs its region's gateway and copies.
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {parseArgs} from 'node:util';
import {isServerPid, redflyHome, statePaths} from '../lib/home';
import {checkRedisServer} from '../provision/binary';
import {adoptConcurrency, LocalProvisioner, reconcileConcurrency} from '../provision';
import {redisHzFromEnv} from '../provision/config';
import {openStore, Store} from '../store';
import {createApp, mountApi} from './app';
import {DataPlane} from './dataplane';
import {ensureLocalCredentials, internalSecret} from './bootstrap';
import {loadCatalogue} from './catalogue';
import {DatabaseService} from './databases';
import {clientCapFor, raiseNoFileLimit} from './descriptors';
import {httpUrl, resolveServing, type ServingOptions} from './serving';
import {type AdmissionOptions, admissionFromEnv, DEFAULT_ADMISSION} from '../gateway/admission';
import {makePrivateHome, PRIVATE_UMASK} from '../lib/private-files';
import {HostNode, parseRole} from '../hosts/node';
import {hostId} from '../hosts/identity';

async function main(): Promise<number> {
  const {values} = parseArgs({
    options: {
      port: {type: 'string', default: '4780'},
      home: {type: 'string'},
      host: {type: 'string'},
      listen: {type: 'string'},
      'public-host': {type: 'string'},
      tls: {type: 'string', default: 'auto'},
      'tls-cert': {type: 'string'},
      'tls-key': {type: 'string'},
      'tls-ca': {type: 'string'},
      'simulate-latency': {type: 'boolean', default: false},
      'gateway-port-base': {type: 'string'},
      'gateway-workers': {type: 'string'},
      role: {type: 'string'},
      region: {type: 'string'},
    },
  });
  let roleOf: ReturnType<typeof parseRole>;
  try {
    roleOf = parseRole(values.role, values.region);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid --port ${values.port}`);
    return 2;
  }
  const portBaseText = values['gateway-port-base'];
  const portBase = portBaseText === undefined ? undefined : Number(portBaseText);
  if (portBase !== undefined && (!Number.isInteger(portBase) || portBase < 1 || portBase > 65535)) {
    console.error(`invalid --gateway-port-base ${portBaseText}`);
    return 2;
  }
  const workersText = values['gateway-workers'] ?? process.env.REDFLY_GATEWAY_WORKERS ?? '1';
  const gatewayWorkers = Number(workersText);
  if (!Number.isInteger(gatewayWorkers) || gatewayWorkers < 1 || gatewayWorkers > 64) {
    console.error(`invalid --gateway-workers ${workersText} (REDFLY_GATEWAY_WORKERS): a whole number from 1 to 64`);
    return 2;
  }
  const home = values.home ? resolve(values.home) : redflyHome();
  // Secrets at rest: everything this process and its redis-servers write is the owner's alone,
  // and a home made earlier with a wider mode is tightened.
  process.umask(PRIVATE_UMASK);
  mkdirSync(home, {recursive: true, mode: 0o700});
  makePrivateHome(home, statePaths(home).privateMarker, [statePaths(home).data]);
  let serving: ServingOptions;
  let admission: Partial<AdmissionOptions>;
  let concurrency: number;
  let adopting: number;
  let redisHz: number | undefined;
  try {
    serving = await resolveServing(home, {
      listen: values.listen ?? values.host,
      publicHost: values['public-host'],
      tls: values.tls,
      tlsCert: values['tls-cert'],
      tlsKey: values['tls-key'],
      tlsCa: values['tls-ca'],
    }, (m) => console.error(`warning: ${m}`));
    admission = admissionFromEnv();
    concurrency = reconcileConcurrency();
    adopting = adoptConcurrency();
    redisHz = redisHzFromEnv();
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const host = serving.listen;
  // Descriptor headroom: the soft limit goes up to the hard one, and the gateway's client cap
  // leaves a reserve so that supervision and the API keep working under a connection flood.
  const fds = raiseNoFileLimit((m) => console.error(`warning: ${m}`));
  admission.maxClients = clientCapFor(fds, admission.maxClients ?? DEFAULT_ADMISSION.maxClients);

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

  // Flags checked against the catalogue before anything opens: a bad flag changes nothing (not
  // even a PostgreSQL store's migrations).
  const catalogue = loadCatalogue(home);
  // the gateway takes portBase + i, the REST API portBase + regions + i
  if (portBase !== undefined && portBase + 2 * catalogue.regions.length - 1 > 65535) {
    console.error(`--gateway-port-base ${portBase} leaves no room for ${catalogue.regions.length} regions`);
    return 2;
  }
  if (roleOf?.region && !catalogue.region(roleOf.region)) {
    console.error(`unknown --region ${roleOf.region}; regions: ${catalogue.regions.map((r) => r.code).join(', ')}`);
    return 2;
  }

  // The composition root: every part is built once, here, in dependency order.
  let store: Store;
  try {
    store = await openStore(home);
  } catch (err) {
    console.error(`redfly server cannot open its records: ${(err as Error).message}`);
    return 1;
  }
  const secret = internalSecret(home);
  const readiness = {serving: false, starting: (): number => 0};
  const app = createApp({
    // Request logs carry method, URL and status only: no header (tokens) and no body (passwords).
    logger: {level: process.env.REDFLY_LOG_LEVEL ?? 'info', file: statePaths(home).serverLog},
    isReady: () => readiness.serving,
    databasesStarting: () => readiness.starting(),
    tls: serving.tls,
    store,
  });
  const log = app.log;
  const logInfo = (msg: string, fields?: Record<string, unknown>) => log.info({...fields}, msg);
  let node: HostNode | null = null;
  if (roleOf) {
    try {
      node = new HostNode({
        home,
        role: roleOf.role,
        region: roleOf.region,
        hostId: hostId(home),
        store,
        catalogue,
        internalSecret: secret,
        redisServerPath,
        listen: serving.listen,
        publicHost: serving.publicHost,
        tls: serving.tls,
        avoidPorts: () => dataPlane.gatewayPorts(),
        clientSettings: (id) => dataPlane.directory.clientSettings(id),
        log: logInfo,
      });
    } catch (err) {
      console.error(`redfly server cannot start as ${roleOf.role}: ${(err as Error).message}`);
      await store.close();
      return 2;
    }
  }
  // The gateway's directory subscribes to the store's changes: writes go to the store itself.
  const dataPlane: DataPlane = new DataPlane({
    home,
    store,
    catalogue,
    internalSecret: secret,
    redisServer: redisServerPath,
    host,
    publicHost: serving.publicHost,
    tls: serving.tls,
    admission,
    simulateLatency: values['simulate-latency'],
    portBase,
    gatewayWorkers,
    log: logInfo,
    // A node of several hosts: a region host serves its own region (gateway, REST, its cache
    // backends and appliers over the shared database-1 log); a control node none.
    ...(node
      ? {regions: roleOf?.region ? [roleOf.region] : [], cache: roleOf?.role === 'region', endpointOf: node.endpointOf.bind(node)}
      : {}),
  });
  // the directory's copy of the records (the provisioner's clientSettings read it)
  await dataPlane.load();
  try {
    await dataPlane.openCache();
  } catch (err) {
    console.error(`redfly server cannot open the regional cache: ${(err as Error).message}`);
    await store.close();
    return 1;
  }
  const provisioner = node?.provisioner ?? new LocalProvisioner({
    home,
    internalSecret: secret,
    redisServerPath,
    reconcileConcurrency: concurrency,
    adoptConcurrency: adopting,
    redisHz,
    // keep new processes off the gateway's ports (those of the last run until it listens again)
    avoidPorts: () => dataPlane.gatewayPorts(),
    // from the directory's copy of the records: a config is rendered synchronously
    clientSettings: (id) => dataPlane.directory.clientSettings(id),
  });
  const databases = new DatabaseService({
    store,
    provisioner,
    catalogue,
    log,
    url: (rec, region) => (node ? node.url(rec, region) : dataPlane.url(rec, region)),
    tls: () => dataPlane.tlsInfo(),
    restUrl: (region) => (node ? node.restUrl(region) : dataPlane.restUrl(region)),
    // Several nodes on one PostgreSQL without --role: a node brings back only the databases
    // whose processes it made, i.e. that have a folder in its home.
    runsHere: process.env.REDFLY_DATABASE_URL && !node ? (rec) => existsSync(join(statePaths(home).data, rec.id)) : undefined,
  });
  // On a node of several hosts the record is the control nodes' to write (src/hosts).
  if (provisioner instanceof LocalProvisioner && !node) {
    provisioner.subscribe((id, health, message) => databases.onProcessEvent(id, health, message));
  }
  readiness.starting = () => databases.convergence.returning.size;
  await mountApi(app, {store, provisioner, catalogue, dataPlane, databases, hosts: node ? () => node!.hosts.list() : undefined,
    cacheAddresses: node ? {endpoints: () => node!.gatewayEndpoints(), restUrls: () => node!.restUrls()} : undefined});

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
    await dataPlane.close().catch(() => undefined);
    await store.close();
    return 1;
  }
  const boundPort = Number(new URL(address).port);
  // This machine's CLI reaches the API on the local address; everyone else on the public host.
  const apiUrl = httpUrl(serving.tls !== null, serving.localHost, boundPort);
  const publicApiUrl = httpUrl(serving.tls !== null, serving.publicHost, boundPort);
  const caFile = serving.tls?.caFile ?? undefined;
  await ensureLocalCredentials(store, home, apiUrl, caFile);
  const serverJson = statePaths(home).serverJson;
  writeFileSync(serverJson, `${JSON.stringify({pid: process.pid, apiUrl, publicApiUrl, caFile, port: boundPort, startedAt: new Date().toISOString()}, null, 2)}\n`);
  log.info({apiUrl, publicApiUrl, home, tls: serving.tls !== null, caFile, maxClients: admission.maxClients, openFilesLimit: fds?.soft}, 'listening');

  let stopping: Promise<void> | null = null;
  const shutdown = (signal: string): Promise<void> =>
    (stopping ??= (async () => {
      log.info({signal}, 'stopping');
      await app.close().catch(() => undefined);
      await node?.stop().catch((err) => log.error({err: (err as Error).message}, 'leaving the hosts failed'));
      // clients first, then the cache's backends, then the databases' processes
      await dataPlane.close().catch((err) => log.error({err: (err as Error).message}, 'data plane close failed'));
      await provisioner.stopAll().catch((err) => log.error({err: (err as Error).message}, 'stopAll failed'));
      await node?.local?.stopAll().catch((err) => log.error({err: (err as Error).message}, 'stopAll failed'));
      // let interrupted jobs record their outcome before the records close
      await Promise.race([databases.lanes.idle(), new Promise((r) => setTimeout(r, 2000))]);
      await store.close();
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

  // The gateway listens first, on the ports of the last run (the processes started below keep
  // off them): the API and every URL answer at once, and each database serves as soon as it is
  // back (its status says which are still starting). A host with 1,000 databases is back within
  // seconds, and a restart of this process alone adopts the redis-servers that outlived it.
  if (node) {
    // Several hosts: the gateway needs every host's address to reach their copies, and follows
    // them (a copy's host may come back on other ports).
    await node.start();
    node.hosts.onChange(() => dataPlane.directory.refreshAll());
  }
  try {
    if (roleOf?.role !== 'control') await dataPlane.startGateway();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    console.error(
      e.code === 'EADDRINUSE'
        ? `a gateway port is already in use (${e.message}); choose another --gateway-port-base`
        : `the region gateway cannot start: ${e.message}`,
    );
    await shutdown('gateway failed');
    return 1;
  }
  readiness.serving = true;
  if (node) {
    const region = roleOf?.region;
    await node.announce({
      apiUrl: publicApiUrl,
      gatewayPort: region ? (dataPlane.endpoints()[region]?.port ?? null) : null,
      restPort: region ? (dataPlane.restEndpoints()[region]?.port ?? null) : null,
    });
  }
  const endpoints = dataPlane.endpoints();
  log.info(
    {endpoints: Object.fromEntries(Object.entries(endpoints).map(([r, ep]) => [r, ep.port])), simulateLatency: values['simulate-latency'],
      gatewayWorkers: dataPlane.gatewayWorkers()?.map((w) => w.pid) ?? 'in process'},
    'gateway listening',
  );
  const reconcileStarted = Date.now();
  // Several hosts: a region host reconciles its share; a control node carries on the changes
  // accepted before it stopped (the region hosts run them).
  const reconciling = node
    ? node.reconcile().then(() => (roleOf?.role === 'control' ? node!.carryOn(store, databases.convergence) : undefined))
    : databases.reconcile();
  void reconciling.then(
    () => log.info({ms: Date.now() - reconcileStarted}, 'every database back after start'),
    (err) => log.error({err: (err as Error).message}, 'reconcile failed'),
  );
  console.log(`redfly API listening on ${apiUrl} (state in ${home})`);
  return -1; // keep running
}

function runningServer(home: string): {pid: number; apiUrl: string} | null {
  const file = statePaths(home).serverJson;
  if (!existsSync(file)) return null;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as {pid: number; apiUrl: string};
    if (info.pid === process.pid) return null;
    // after a crash the recorded pid may belong to some other program by now
    return isServerPid(info.pid) ? info : null;
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
