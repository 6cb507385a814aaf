// How wire values read to a person, and the documented --json shapes.
import type {Database, DatabaseStats, Plan, UsageFigure} from '../api/types';

/**
 * The documented JSON document of a database (also each element of `list --json`): at least what
 * the text says. `statusMessage` appears when the server gives one; `endpoints` (region -> URL) is
 * added by the commands that print URLs (create, status, reset: withEndpoints).
 */
export type DatabaseJson = Pick<
  Database,
  'id' | 'name' | 'org' | 'plan' | 'primaryRegion' | 'readRegions' | 'eviction' | 'createdAt' | 'updatedAt'
> & {
  status: Database['status'] | 'deleted'; // "deleted": what `redis delete --json` ends with
  statusMessage?: string;
  /** Absent only from `redis delete --json`: a deleted database's URL (and password) is no use to print. */
  privateUrl?: string;
  endpoints?: Record<string, string>;
};

export function databaseJson(db: Database): DatabaseJson {
  return {
    id: db.id,
    name: db.name,
    org: db.org,
    plan: db.plan,
    primaryRegion: db.primaryRegion,
    readRegions: db.readRegions,
    eviction: db.eviction,
    status: db.status,
    ...(db.statusMessage ? {statusMessage: db.statusMessage} : {}),
    privateUrl: db.privateUrl,
    createdAt: db.createdAt,
    updatedAt: db.updatedAt,
  };
}

/** The document with the database's per-region URLs, for the commands whose text prints URLs. */
export function withEndpoints(db: Database): DatabaseJson {
  const doc = databaseJson(db);
  return db.endpoints && Object.keys(db.endpoints).length ? {...doc, endpoints: db.endpoints} : doc;
}

/** The document of a database that is gone: no URL, no endpoints (their password is in them). */
export function deletedDatabaseJson(db: Database): DatabaseJson {
  const {privateUrl: _url, endpoints: _endpoints, ...rest} = databaseJson(db);
  return {...rest, status: 'deleted'};
}

export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 1 : 0);
  return `${shown} ${units[unit]}`;
}

export function count(n: number | null): string {
  return n === null ? 'unlimited' : n.toLocaleString('en-US');
}

/** A plan's commands/s: 0 means no throttle (an operator plan, see docs/api.md). */
export function rate(n: number): string {
  return n <= 0 ? 'unlimited' : count(n);
}

export function price(plan: Plan): string {
  return plan.pricePerMonthPerRegionUsd === 0 ? 'free' : `$${plan.pricePerMonthPerRegionUsd}/month per region`;
}

export function planSummary(plan: Plan): string {
  return [
    bytes(plan.maxDataSizeBytes),
    `${count(plan.maxConnections)} connections`,
    `${rate(plan.maxCommandsPerSecond)} commands/s`,
    `${count(plan.maxDailyCommands)} commands/day`,
    `${bytes(plan.maxDailyBandwidthBytes)}/day bandwidth`,
  ].join(', ');
}

export function eviction(on: boolean): string {
  return on ? 'enabled' : 'disabled';
}

export function regionsList(codes: string[]): string {
  return codes.length ? codes.join(',') : '-';
}

export function statusText(db: Database): string {
  return db.statusMessage ? `${db.status} (${db.statusMessage})` : db.status;
}

export function usage(figure: UsageFigure, asBytes = false): string {
  const show = (n: number) => (asBytes ? bytes(n) : count(n));
  if (figure.limit === null) return `${show(figure.used)} (unlimited)`;
  const pct = figure.limit > 0 ? Math.round((figure.used / figure.limit) * 100) : 0;
  return `${show(figure.used)} of ${show(figure.limit)} (${pct}%)`;
}

export function lag(stats: DatabaseStats): string {
  const entries = Object.entries(stats.replicationLagMs ?? {});
  if (!entries.length) return '-';
  return entries.map(([region, ms]) => `${region} ${ms === null ? 'unknown' : `${ms} ms`}`).join(', ');
}
