// Figures for operators in Prometheus's text format (GET /metrics, routes/metrics.ts), built
// with prom-client. Nothing here is counted on the way: every scrape reads what the data plane
// already keeps (the gateway's per-database usage through DataPlane.stats(), the provisioner's
// process health, the regional cache's status), so the gateway's hot path does no extra work.
// A scrape sees only the organizations of its token, like every other route.
//
// Names follow Prometheus's conventions (https://prometheus.io/docs/practices/naming/): base
// units (bytes, seconds), `_total` for counters, an enum as one 0/1 series per state.
import {Counter, Gauge, Registry} from 'prom-client';
import type {Provisioner} from '../provision/types';
import type {DatabaseRecord, Store} from '../store';
import type {DataPlane} from './dataplane';
import type {DatabaseStats} from './schemas';
import {CACHE_REGION_STATES} from './schemas';

const PROCESS_STATES = ['starting', 'running', 'restarting', 'stopped', 'failed'] as const;
const DB_STATUSES = ['provisioning', 'ready', 'updating', 'deleting', 'failed'] as const;

export interface MetricsSources {
  store: Store;
  provisioner: Provisioner;
  dataPlane: DataPlane;
}

/** The registry's content type, for the response header. */
export const METRICS_CONTENT_TYPE = new Registry().contentType;

/**
 * One scrape: every figure of the databases and regional caches of `orgs`, as Prometheus text.
 * A database that is not serving yet has `redfly_database_up 0` and no usage series; a cache
 * region whose backend does not answer keeps its lag and state series (they come from memory).
 */
export async function collectMetrics(src: MetricsSources, orgs: string[]): Promise<string> {
  const registry = new Registry();
  const m = defineMetrics(registry);
  const dbs = (await src.store.allDatabases()).filter((d) => orgs.includes(d.org));
  await Promise.all(dbs.map((rec) => databaseFigures(src, rec, m)));
  const cache = src.dataPlane.cacheService;
  if (cache) {
    await Promise.all(
      orgs.map(async (org) => {
        const status = await cache.status(org);
        m.cacheBacklogEntries.set({org}, status.backlog.entries);
        m.cacheBacklogBytes.set({org}, status.backlog.bytes);
        m.cacheBacklogMaxBytes.set({org}, status.backlog.maxBytes);
        m.cacheTrimmed.inc({org}, status.backlog.trimmed);
        m.cacheAccepted.inc({org}, status.lastSeq);
        for (const r of status.regions) {
          const l = {org, region: r.region};
          for (const s of CACHE_REGION_STATES) m.cacheRegionState.set({...l, state: s}, r.state === s ? 1 : 0);
          if (r.state === 'idle') continue;
          m.cacheLagEntries.set(l, r.lagEntries);
          m.cacheLagSeconds.set(l, r.lagMs / 1000);
          m.cacheDropped.inc(l, r.dropped);
          m.cacheReplayErrors.inc(l, r.replayErrors);
          if (r.memoryBytes !== null) m.cacheMemory.set(l, r.memoryBytes);
          if (r.keys !== null) m.cacheKeys.set(l, r.keys);
        }
      }),
    );
  }
  return registry.metrics();
}

async function databaseFigures(src: MetricsSources, rec: DatabaseRecord, m: ReturnType<typeof defineMetrics>): Promise<void> {
  const l = {org: rec.org, database: rec.name};
  for (const s of DB_STATUSES) m.dbStatus.set({...l, status: s}, rec.status === s ? 1 : 0);
  let health: ReturnType<Provisioner['health']> = [];
  try {
    health = src.provisioner.health(rec.id);
  } catch {
    // the provisioner does not know the database (yet): no process series
  }
  for (const p of health) {
    const pl = {...l, region: p.region, role: p.role};
    m.procRestarts.inc(pl, p.restarts);
    for (const s of PROCESS_STATES) m.procState.set({...pl, state: s}, p.state === s ? 1 : 0);
  }
  let stats: DatabaseStats;
  try {
    stats = await src.dataPlane.stats(rec);
  } catch {
    m.dbUp.set(l, 0);
    return;
  }
  m.dbUp.set(l, 1);
  m.commands.inc(l, stats.commandsToday.used);
  m.bandwidth.inc(l, stats.bandwidthTodayBytes.used);
  m.connections.set(l, stats.connections.used);
  m.memory.set(l, stats.dataSizeBytes.used);
  const limits: [string, {used: number; limit: number | null}][] = [
    ['daily_commands', stats.commandsToday],
    ['daily_bandwidth_bytes', stats.bandwidthTodayBytes],
    ['data_size_bytes', stats.dataSizeBytes],
    ['connections', stats.connections],
  ];
  for (const [limit, fig] of limits) {
    if (fig.limit === null) continue;
    m.limit.set({...l, limit}, fig.limit);
    m.limitReached.set({...l, limit}, fig.used >= fig.limit ? 1 : 0);
  }
  for (const [region, lagMs] of Object.entries(stats.replicationLagMs)) {
    m.replicaUp.set({...l, region}, lagMs === null ? 0 : 1);
    if (lagMs !== null) m.replicationLag.set({...l, region}, lagMs / 1000);
  }
}

function defineMetrics(registry: Registry) {
  const registers = [registry];
  const db = ['org', 'database'] as const;
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge<L>({name, help, labelNames, registers});
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({name, help, labelNames, registers});
  return {
    dbStatus: gauge('redfly_database_status', 'The record\'s status: 1 for the current one, 0 for the others.', [...db, 'status']),
    dbUp: gauge('redfly_database_up', '1 when the gateway serves the database and its figures could be read.', db),
    commands: counter(
      'redfly_database_commands_total',
      'Commands the gateway counted today (UTC); resets at 00:00 UTC, which rate() treats as a counter reset.',
      db,
    ),
    bandwidth: counter(
      'redfly_database_bandwidth_bytes_total',
      'Bytes in and out through the gateway today (UTC); resets at 00:00 UTC.',
      db,
    ),
    connections: gauge('redfly_database_connections', 'Client connections open through the gateway, all regions.', db),
    memory: gauge('redfly_database_memory_bytes', "The primary's used_memory, as last sampled.", db),
    limit: gauge('redfly_database_limit', "The plan's limit (daily commands, daily bandwidth bytes, data size bytes, connections).", [...db, 'limit']),
    limitReached: gauge(
      'redfly_database_limit_reached',
      '1 while usage is at or over the limit, i.e. while the gateway refuses what the limit covers.',
      [...db, 'limit'],
    ),
    replicationLag: gauge('redfly_database_replication_lag_seconds', "How far a read region's replica is behind its primary.", [...db, 'region']),
    replicaUp: gauge('redfly_database_replica_up', "1 when the region's replica is linked and sampled, 0 when it is down or not sampled yet.", [...db, 'region']),
    procRestarts: counter('redfly_process_restarts_total', 'Restarts of a redis-server process by supervision.', [...db, 'region', 'role']),
    procState: gauge('redfly_process_state', "The process's state: 1 for the current one, 0 for the others.", [...db, 'region', 'role', 'state']),
    cacheBacklogEntries: gauge('redfly_cache_backlog_entries', 'Entries in the regional cache\'s replay backlog.', ['org']),
    cacheBacklogBytes: gauge('redfly_cache_backlog_bytes', "Bytes of the regional cache's replay backlog.", ['org']),
    cacheBacklogMaxBytes: gauge('redfly_cache_backlog_max_bytes', 'The bound of the replay backlog.', ['org']),
    cacheTrimmed: counter('redfly_cache_backlog_trimmed_total', 'Entries trimmed from the backlog (age or size).', ['org']),
    cacheAccepted: counter('redfly_cache_commands_accepted_total', 'Database-1 writes accepted into the replay log.', ['org']),
    cacheRegionState: gauge('redfly_cache_region_state', "The region's replay state: 1 for the current one, 0 for the others.", ['org', 'region', 'state']),
    cacheLagEntries: gauge('redfly_cache_replay_lag_entries', 'Accepted writes a region has not applied yet.', ['org', 'region']),
    cacheLagSeconds: gauge('redfly_cache_replay_lag_seconds', 'How long the oldest write a region has not applied has waited.', ['org', 'region']),
    cacheDropped: counter('redfly_cache_replay_dropped_total', 'Writes trimmed from the backlog before the region applied them.', ['org', 'region']),
    cacheReplayErrors: counter('redfly_cache_replay_errors_total', 'Writes the region failed to apply.', ['org', 'region']),
    cacheMemory: gauge('redfly_cache_memory_bytes', "The region's cache used_memory.", ['org', 'region']),
    cacheKeys: gauge('redfly_cache_keys', "Keys in the region's cache (database 1).", ['org', 'region']),
  };
}
