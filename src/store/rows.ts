// Rows of the store's tables as both backends read them, and the records made of them. The
// columns are the same in SQLite and PostgreSQL; only a few types differ (SQLite's 0/1 for
// booleans, PostgreSQL's text for both JSON columns here too), which hydration accepts.
import type {DatabaseRecord, HostRecord, OrgRecord, ProcessRecord, RedisSettings, TokenRecord} from './types';

export interface DbRow {
  id: string;
  name: string;
  org_slug: string;
  plan: string;
  primary_region: string;
  read_regions: string;
  eviction: number | boolean;
  status: DatabaseRecord['status'];
  status_message: string | null;
  password: string;
  rest_token: string;
  read_only_rest_token: string;
  redis_settings?: string;
  created_at: string;
  updated_at: string;
}

export interface TokenRow {
  id: string;
  name: string;
  secret_sha256: string;
  scope: TokenRecord['scope'];
  created_at: string;
  last_used_at: string | null;
}

export interface ProcRow {
  database_id: string;
  region: string;
  role: 'primary' | 'replica';
  port: number;
  host?: string | null;
}

export interface OrgRow {
  slug: string;
  name: string;
  type: OrgRecord['type'];
  cache_password: string;
  created_at: string;
}

export interface HostRow {
  id: string;
  role: HostRecord['role'];
  region: string | null;
  address: string;
  api_url: string | null;
  gateway_port: number | null;
  rest_port: number | null;
  pid: number;
  started_at: string;
  last_seen_at: string;
  report: string;
}

/** The record of a databases row and its processes' rows (primary first, then by region). */
export function hydrateDatabase(row: DbRow, procs: ProcRow[]): DatabaseRecord {
  const processes: ProcessRecord[] = procs
    .map((p) => ({region: p.region, role: p.role, port: p.port, ...(p.host ? {host: p.host} : {})}))
    .sort((a, b) => (a.role === b.role ? a.region.localeCompare(b.region) : a.role === 'primary' ? -1 : 1));
  return {
    id: row.id,
    name: row.name,
    org: row.org_slug,
    plan: row.plan,
    primaryRegion: row.primary_region,
    readRegions: JSON.parse(row.read_regions) as string[],
    eviction: row.eviction === 1 || row.eviction === true,
    status: row.status,
    statusMessage: row.status_message,
    password: row.password,
    restToken: row.rest_token,
    readOnlyRestToken: row.read_only_rest_token,
    processes,
    ...(row.redis_settings !== undefined && row.redis_settings !== '{}'
      ? {redisSettings: JSON.parse(row.redis_settings) as RedisSettings}
      : {}),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The values of a databases row (named as in the INSERT and UPDATE statements of both backends). */
export function databaseColumns(db: DatabaseRecord) {
  return {
    id: db.id,
    name: db.name,
    org: db.org,
    plan: db.plan,
    primaryRegion: db.primaryRegion,
    readRegions: JSON.stringify(db.readRegions),
    eviction: db.eviction,
    status: db.status,
    statusMessage: db.statusMessage,
    password: db.password,
    restToken: db.restToken ?? '',
    readOnlyRestToken: db.readOnlyRestToken ?? '',
    redisSettings: JSON.stringify(db.redisSettings ?? {}),
    createdAt: db.createdAt,
    updatedAt: db.updatedAt,
  };
}

/** Process rows grouped by database id. */
export function groupProcs(procs: ProcRow[]): Map<string, ProcRow[]> {
  const byDb = new Map<string, ProcRow[]>();
  for (const p of procs) {
    const list = byDb.get(p.database_id);
    if (list) list.push(p);
    else byDb.set(p.database_id, [p]);
  }
  return byDb;
}

export function hydrateOrg(row: OrgRow): OrgRecord {
  return {slug: row.slug, name: row.name, type: row.type, cachePassword: row.cache_password, createdAt: row.created_at};
}

export function hydrateToken(row: TokenRow, orgs: string[]): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    secretSha256: row.secret_sha256,
    orgs,
    scope: row.scope,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

export function hydrateHost(row: HostRow): HostRecord {
  return {
    id: row.id,
    role: row.role,
    region: row.region,
    address: row.address,
    apiUrl: row.api_url,
    gatewayPort: row.gateway_port,
    restPort: row.rest_port,
    pid: row.pid,
    startedAt: row.started_at,
    lastSeenAt: row.last_seen_at,
    report: JSON.parse(row.report) as unknown,
  };
}

/** The values of a hosts row, in the column order of both backends' upserts. */
export function hostValues(h: HostRecord): unknown[] {
  return [h.id, h.role, h.region, h.address, h.apiUrl, h.gatewayPort, h.restPort, h.pid, h.startedAt, h.lastSeenAt, JSON.stringify(h.report ?? null)];
}

/** Hosts ordered by role, region (none first), address: listHosts()'s order in both backends. */
export const HOSTS_ORDER = 'ORDER BY role, region IS NOT NULL, region, address, id';
