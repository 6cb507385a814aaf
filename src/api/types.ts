// Wire types of the provisioning API (JSON over HTTP under /v1). The server's schemas in
// src/control/ are the source of truth and its OpenAPI document is generated from them; these
// interfaces are the client's view of the same shapes. The CLI imports only this side.

export type DatabaseStatus = 'provisioning' | 'ready' | 'updating' | 'deleting' | 'failed';

export interface Region {
  code: string; // Fly region code, e.g. "mad"
  name: string; // "Madrid, Spain"
  latitude: number;
  longitude: number;
}

export interface Plan {
  id: string; // "free" | "200mb" | "500mb" (data: data/plans.json)
  displayName: string;
  maxDataSizeBytes: number;
  maxConnections: number;
  maxCommandsPerSecond: number;
  maxDailyCommands: number | null; // null = unlimited
  maxDailyBandwidthBytes: number;
  maxRequestSizeBytes: number;
  pricePerMonthPerRegionUsd: number;
}

export interface Organization {
  slug: string; // lowercase letters, digits, dashes
  name: string;
  type: 'personal' | 'shared';
  createdAt: string;
}

export interface ProcessInfo {
  region: string;
  role: 'primary' | 'replica';
  port: number;
  state: 'starting' | 'running' | 'restarting' | 'stopped' | 'failed';
  restarts: number;
  lastExit?: string | null; // e.g. "killed by SIGKILL at 2026-11-24T03:30:00Z"
}

export interface Database {
  id: string; // 15 random alphanumerics
  name: string;
  org: string; // organization slug
  plan: string; // plan id
  primaryRegion: string;
  readRegions: string[];
  eviction: boolean;
  status: DatabaseStatus;
  statusMessage?: string | null; // set when failed, or to say what supervision did
  privateUrl: string; // redis://default:<password>@<host>:<port>
  endpoints?: Record<string, string>; // region code -> redis:// URL (gateway issue)
  processes?: ProcessInfo[];
  createdAt: string;
  updatedAt: string;
}

export interface DatabaseList {
  databases: Database[];
  nextCursor: string | null; // pass as ?cursor= to get the next page
}

export interface CreateDatabaseRequest {
  org: string;
  name?: string; // generated when absent
  primaryRegion: string;
  readRegions?: string[];
  plan: string;
  eviction?: boolean; // default false
}

export interface UpdateDatabaseRequest {
  readRegions?: string[]; // the full new set
  plan?: string;
  eviction?: boolean;
  // name and primaryRegion are refused with 422 (immutable)
}

export interface UsageFigure {
  used: number;
  limit: number | null; // null = unlimited
}

export interface DatabaseStats {
  id: string;
  connections: UsageFigure;
  commandsToday: UsageFigure;
  bandwidthTodayBytes: UsageFigure;
  dataSizeBytes: UsageFigure;
  replicationLagMs: Record<string, number | null>; // per read region; null when unknown/down
}

export interface Token {
  id: string;
  name: string;
  orgs: string[];
  createdAt: string;
  token?: string; // the secret, returned only once, at creation
}

export interface Whoami {
  tokenId: string;
  tokenName: string;
  orgs: string[];
}

export interface ErrorBody {
  error: {code: string; message: string; requestId?: string; details?: unknown};
}
