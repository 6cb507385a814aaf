import type {DatabaseStats} from '../api/types';
import {withConnection} from '../redis/client';
import {parseInfo, parseInfoFields} from '../redis/info';
import type {DatabaseRecord} from '../store';
import type {Catalogue} from './catalogue';
import {ApiError} from './errors';

export interface AdminAuth {
  username?: string;
  password: string;
}

/** Usage of a database read from its primary's INFO, for an API without a data plane (the
 *  server counts through the gateway: DataPlane.stats). Counters are since the process started. */
export async function databaseStats(
  rec: DatabaseRecord,
  catalogue: Catalogue,
  auth: AdminAuth,
  host = '127.0.0.1',
): Promise<DatabaseStats> {
  const primary = rec.processes.find((p) => p.role === 'primary');
  if (!primary || primary.port === 0) throw new ApiError(503, 'redis_unavailable', `database ${rec.name} has no running primary`);
  const info = await readInfo(host, primary.port, auth);
  const plan = catalogue.plan(rec.plan);
  const num = (k: string) => Number(info[k] ?? 0);

  const replicationLagMs: Record<string, number | null> = {};
  const masterOffset = num('master_repl_offset');
  const byPort = new Map<number, {offset: number; lag: number; online: boolean}>();
  for (const [k, v] of Object.entries(info)) {
    if (!/^slave\d+$/.test(k)) continue;
    const f = parseInfoFields(v);
    byPort.set(Number(f.port), {offset: Number(f.offset), lag: Number(f.lag), online: f.state === 'online'});
  }
  for (const p of rec.processes.filter((x) => x.role === 'replica')) {
    const r = byPort.get(p.port);
    if (!r || !r.online) replicationLagMs[p.region] = null;
    // caught up: no lag; behind: the replica's last acknowledgement is `lag` seconds old
    else replicationLagMs[p.region] = r.offset >= masterOffset ? 0 : Math.max(1, r.lag * 1000);
  }

  return {
    id: rec.id,
    // our own INFO connection is not the user's
    connections: {used: Math.max(0, num('connected_clients') - 1), limit: plan?.maxConnections ?? null},
    commandsToday: {used: num('total_commands_processed'), limit: plan?.maxDailyCommands ?? null},
    bandwidthTodayBytes: {
      used: num('total_net_input_bytes') + num('total_net_output_bytes'),
      limit: plan?.maxDailyBandwidthBytes ?? null,
    },
    dataSizeBytes: {used: num('used_memory'), limit: plan?.maxDataSizeBytes ?? null},
    replicationLagMs,
  };
}

async function readInfo(host: string, port: number, auth: AdminAuth): Promise<Record<string, string>> {
  try {
    const text = await withConnection(
      port,
      {host, connectTimeoutMs: 1000, callTimeoutMs: 2000, auth: {user: auth.username, password: auth.password}},
      (c) => c.text('INFO'),
    );
    return parseInfo(text);
  } catch (err) {
    throw new ApiError(503, 'redis_unavailable', `could not read the database's statistics: ${(err as Error).message}`);
  }
}
