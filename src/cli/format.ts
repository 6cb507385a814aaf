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
} & Pick<Database, 'restUrl' | 'restToken' | 'readOnlyRestToken'>; // the REST API (Upstash's): URL in the primary region, the two tokens

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
    ...(db.restUrl !== undefined ? {restUrl: db.restUrl} : {}),
    ...(db.restToken !== undefined ? {restToken: db.restToken} : {}),
    ...(db.readOnlyRestToken !== undefined ? {readOnlyRestToken: db.readOnlyRestToken} : {}),
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

/** The names an app using @upstash/redis reads (`Redis.fromEnv()`). */
export const REST_ENV_NAMES = {url: 'UPSTASH_REDIS_REST_URL', token: 'UPSTASH_REDIS_REST_TOKEN'} as const;

/** The REST API's environment of a database in a region (default: its primary region), as
 *  name -> value; the read-only token on request. Throws a message for a region the database
 *  is not in, or a server without the REST API. */
export function restEnv(db: Database, region?: string, readOnly = false): Record<string, string> {
  const where = region ?? db.primaryRegion;
  const url = db.restEndpoints?.[where] ?? (where === db.primaryRegion ? db.restUrl : undefined);
  if (url === undefined) {
    const regions = Object.keys(db.restEndpoints ?? {});
    throw new Error(regions.length
      ? `database ${db.name} is not in region ${where}; its regions: ${regions.join(', ')}`
      : `the server does not report a REST API for database ${db.name}`);
  }
  const token = readOnly ? db.readOnlyRestToken : db.restToken;
  return {[REST_ENV_NAMES.url]: url, [REST_ENV_NAMES.token]: token ?? ''};
}

/** How a client verifies a rediss:// URL, in one line (stderr next to a URL printed alone on
 *  stdout); undefined for redis:// or a certificate from a public CA (nothing to say). */
export function tlsNote(url: string, tls: Database['tls']): string | undefined {
  if (!url.startsWith('rediss://') || !tls) return undefined;
  if (tls.caFile) return `TLS: verify with the CA in ${tls.caFile} (redis-cli --tls --cacert ${tls.caFile})`;
  if (tls.caPem) return 'TLS: verify with the CA certificate in --json (tls.caPem)';
  return undefined;
}
