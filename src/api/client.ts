// Typed client of the provisioning API (docs/api.md). It never prints: it returns wire types or
// throws the typed errors of ./errors. axios is loaded on the first request, not at import, so
// that commands which never talk to the API (help, version) do not pay for it.
import type {AxiosInstance, AxiosResponse} from 'axios';
import {ApiError, NetworkError, ProvisioningError, TimeoutError} from './errors';
import type {CacheInfo, CacheStatus} from './cache';
import type {
  CreateDatabaseRequest,
  Database,
  DatabaseList,
  DatabaseStats,
  HostList,
  Organization,
  Plan,
  Region,
  Token,
  UpdateDatabaseRequest,
  Whoami,
} from './types';

export interface ClientOptions {
  apiUrl: string;
  token?: string;
  /** A CA file (PEM) to verify an https API with, besides the system's (NODE_EXTRA_CA_CERTS
   *  works too). */
  caFile?: string;
  /** Per request. */
  timeoutMs?: number;
  /** Extra attempts for safe requests after a connection failure or a 5xx. */
  retries?: number;
  /** First backoff; doubles on each retry. */
  retryDelayMs?: number;
  userAgent?: string;
}

export interface CreateOptions {
  /** Reused on every retry so a request that reached the server never makes two databases. */
  idempotencyKey?: string;
}

export interface WaitOptions {
  timeoutMs?: number;
  /** First poll interval; grows to maxIntervalMs. Provisioning takes well under a second here. */
  intervalMs?: number;
  maxIntervalMs?: number;
  onPoll?: (db: Database) => void;
}

interface RequestSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Safe to send again: GET, or a create carrying an Idempotency-Key. */
  retryable: boolean;
}

const DEFAULTS = {timeoutMs: 15_000, retries: 2, retryDelayMs: 100};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class RedflyClient {
  readonly apiUrl: string;
  private readonly options: Required<Omit<ClientOptions, 'token' | 'userAgent' | 'caFile'>> & ClientOptions;
  private axiosInstance?: AxiosInstance;
  /** Cancels what is still in flight (e.g. the siblings of a failed parallel request). */
  private readonly inFlight = new AbortController();

  constructor(options: ClientOptions) {
    this.apiUrl = options.apiUrl.replace(/\/+$/, '');
    this.options = {...DEFAULTS, ...options};
  }

  /** Abandons every request still running or waiting to be retried. */
  close(): void {
    this.inFlight.abort();
  }

  // ---- catalogue and identity ----
  health(): Promise<{ok: boolean}> {
    return this.request({method: 'GET', path: '/healthz', retryable: true});
  }
  listRegions(): Promise<Region[]> {
    return this.request({method: 'GET', path: '/v1/regions', retryable: true});
  }
  listPlans(): Promise<Plan[]> {
    return this.request({method: 'GET', path: '/v1/plans', retryable: true});
  }
  /** The hosts of a multi-host deployment (empty for a single-process server). */
  listHosts(): Promise<HostList> {
    return this.request({method: 'GET', path: '/v1/hosts', retryable: true});
  }
  whoami(): Promise<Whoami> {
    return this.request({method: 'GET', path: '/v1/whoami', retryable: true});
  }

  // ---- organizations and tokens ----
  listOrgs(): Promise<Organization[]> {
    return this.request({method: 'GET', path: '/v1/orgs', retryable: true});
  }
  createOrg(input: {slug: string; name?: string}): Promise<Organization> {
    return this.request({method: 'POST', path: '/v1/orgs', body: input, retryable: false});
  }
  createOrgToken(slug: string, input: {name?: string} = {}): Promise<Token> {
    return this.request({method: 'POST', path: `/v1/orgs/${enc(slug)}/tokens`, body: input, retryable: false});
  }
  /** The tokens of an organization, without their secrets, oldest first. */
  listOrgTokens(slug: string): Promise<Token[]> {
    return this.request({method: 'GET', path: `/v1/orgs/${enc(slug)}/tokens`, retryable: true});
  }
  /** A one-time login link to the dashboard of a database or an organization (expires soon). */
  createDashboardLink(target: {database: string} | {org: string}): Promise<{url: string; path: string; expiresAt: string}> {
    return this.request({method: 'POST', path: '/v1/dashboard/links', body: target, retryable: false});
  }
  /** Revokes a token; resolves with the revoked token (no secret). */
  revokeToken(id: string): Promise<Token> {
    return this.request({method: 'DELETE', path: `/v1/tokens/${enc(id)}`, retryable: false});
  }

  // ---- databases ----
  listDatabases(query: {org?: string; limit?: number; cursor?: string} = {}): Promise<DatabaseList> {
    return this.request({method: 'GET', path: '/v1/databases', query, retryable: true});
  }

  /** Every page, in server order. */
  async listAllDatabases(query: {org?: string} = {}): Promise<Database[]> {
    const all: Database[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.listDatabases({...query, limit: 1000, cursor});
      all.push(...page.databases);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return all;
  }

  createDatabase(input: CreateDatabaseRequest, options: CreateOptions = {}): Promise<Database> {
    const key = options.idempotencyKey ?? newIdempotencyKey();
    return this.request({
      method: 'POST',
      path: '/v1/databases',
      body: input,
      headers: {'Idempotency-Key': key},
      retryable: true,
    });
  }
  // A database is named by its id, or by its name; names are unique per organization only, so
  // `org` picks one when the token sees several of that name (409 ambiguous_name otherwise).
  getDatabase(idOrName: string, org?: string): Promise<Database> {
    return this.request({method: 'GET', path: `/v1/databases/${enc(idOrName)}`, query: {org}, retryable: true});
  }
  updateDatabase(idOrName: string, input: UpdateDatabaseRequest, org?: string): Promise<Database> {
    return this.request({method: 'PATCH', path: `/v1/databases/${enc(idOrName)}`, query: {org}, body: input, retryable: false});
  }
  deleteDatabase(idOrName: string, org?: string): Promise<Database> {
    return this.request({method: 'DELETE', path: `/v1/databases/${enc(idOrName)}`, query: {org}, retryable: false});
  }
  resetPassword(idOrName: string, org?: string): Promise<Database> {
    return this.request({
      method: 'POST',
      path: `/v1/databases/${enc(idOrName)}/reset-password`,
      query: {org},
      // An empty JSON object rather than no body: servers may insist on application/json.
      body: {},
      retryable: false,
    });
  }
  getStats(idOrName: string, org?: string): Promise<DatabaseStats> {
    return this.request({method: 'GET', path: `/v1/databases/${enc(idOrName)}/stats`, query: {org}, retryable: true});
  }

  // ---- regional cache ----
  getCacheInfo(org: string): Promise<CacheInfo> {
    return this.request({method: 'GET', path: `/v1/orgs/${enc(org)}/cache`, retryable: true});
  }
  getCacheStatus(org: string): Promise<CacheStatus> {
    return this.request({method: 'GET', path: `/v1/orgs/${enc(org)}/cache/status`, retryable: true});
  }

  /** Polls until `ready`; throws ProvisioningError on `failed` or when time runs out. */
  async waitUntilReady(idOrName: string, options: WaitOptions = {}): Promise<Database> {
    const {timeoutMs = 120_000, intervalMs = 20, maxIntervalMs = 500, onPoll} = options;
    const deadline = Date.now() + timeoutMs;
    let interval = intervalMs;
    for (;;) {
      const db = await this.getDatabase(idOrName);
      onPoll?.(db);
      if (db.status === 'ready') return db;
      if (db.status === 'failed') {
        throw new ProvisioningError(
          `Database ${db.name} failed: ${db.statusMessage || 'no reason given by the server'}`,
          db.id,
          db.status,
        );
      }
      if (Date.now() + interval > deadline) {
        throw new ProvisioningError(
          `Database ${db.name} is still ${db.status} after ${Math.round(timeoutMs / 1000)} s`,
          db.id,
          db.status,
        );
      }
      await sleep(interval);
      interval = Math.min(maxIntervalMs, Math.ceil(interval * 1.5));
    }
  }

  /** Polls until the record is gone (404) after a delete. */
  async waitUntilGone(idOrName: string, options: {timeoutMs?: number} = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    let interval = 20;
    for (;;) {
      try {
        const db = await this.getDatabase(idOrName);
        if (db.status === 'failed') {
          throw new ProvisioningError(
            `Deleting ${db.name} failed: ${db.statusMessage || 'no reason given by the server'}`,
            db.id,
            db.status,
          );
        }
        if (Date.now() + interval > deadline) {
          throw new ProvisioningError(`Database ${db.name} is still ${db.status}`, db.id, db.status);
        }
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return;
        throw error;
      }
      await sleep(interval);
      interval = Math.min(500, Math.ceil(interval * 1.5));
    }
  }

  // ---- transport ----
  private http(): AxiosInstance {
    if (!this.axiosInstance) {
      const axios = requireAxios();
      const headers: Record<string, string> = {Accept: 'application/json'};
      if (this.options.token) headers.Authorization = `Bearer ${this.options.token}`;
      if (this.options.userAgent) headers['User-Agent'] = this.options.userAgent;
      this.axiosInstance = axios.create({
        baseURL: this.apiUrl,
        timeout: this.options.timeoutMs,
        headers,
        // Errors are mapped here from the status, not from axios' exceptions.
        validateStatus: () => true,
        transitional: {clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: true},
        maxRedirects: 0,
        adapter: 'http',
        ...(this.options.caFile ? {httpsAgent: httpsAgentWithCa(this.options.caFile)} : {}),
      });
    }
    return this.axiosInstance;
  }

  private async request<T>(spec: RequestSpec): Promise<T> {
    const http = this.http();
    const query = spec.query
      ? Object.fromEntries(Object.entries(spec.query).filter(([, v]) => v !== undefined && v !== ''))
      : undefined;
    for (let attempt = 0; ; attempt++) {
      const mayRetry = spec.retryable && attempt < this.options.retries;
      let response: AxiosResponse;
      try {
        response = await http.request({
          method: spec.method,
          url: spec.path,
          params: query,
          data: spec.body,
          headers: spec.headers,
          signal: this.inFlight.signal,
        });
      } catch (error) {
        const mapped = this.networkError(error);
        // A timeout means the server is there but slow: sending again would only add load.
        if (mayRetry && !(mapped instanceof TimeoutError)) {
          await this.pause(attempt);
          continue;
        }
        throw mapped;
      }
      if (response.status < 400) return response.data as T;
      if (mayRetry && response.status >= 500) {
        await this.pause(attempt);
        continue;
      }
      throw apiError(response);
    }
  }

  /** Exponential backoff with jitter; ends early (throwing) when the client is closed. */
  private async pause(attempt: number): Promise<void> {
    const base = this.options.retryDelayMs * 2 ** attempt;
    const ms = base + Math.floor(Math.random() * (base / 2));
    const signal = this.inFlight.signal;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
    if (signal.aborted) throw new NetworkError('Request abandoned', this.apiUrl, 'ECANCELED');
  }

  private networkError(error: unknown): NetworkError {
    const e = error as {code?: string; message?: string};
    if (e.code === 'ERR_CANCELED') return new NetworkError('Request abandoned', this.apiUrl, 'ECANCELED');
    if (e.code === 'ETIMEDOUT' || e.code === 'ECONNABORTED') {
      return new TimeoutError(this.apiUrl, this.options.timeoutMs);
    }
    const code = e.code ?? 'ENETWORK';
    const reason =
      code === 'ECONNREFUSED'
        ? 'connection refused'
        : code === 'ECONNRESET'
          ? 'connection reset'
          : code === 'ENOTFOUND'
            ? 'host not found'
            : e.message || code;
    return new NetworkError(`Could not reach the redfly API at ${this.apiUrl} (${reason})`, this.apiUrl, code);
  }
}

/**
 * axios probes fetch, Request, Response, ReadableStream and FormData when it is imported, to prepare its
 * fetch adapter. In Node those globals are lazy getters that load undici, about 20 ms of a CLI
 * call. This client uses the http adapter, so the probe sees them absent; they are put back
 * untouched (still lazy) right after.
 */
function requireAxios(): typeof import('axios').default {
  const names = ['fetch', 'Request', 'Response', 'ReadableStream', 'FormData'];
  const saved = names.map((name) => [name, Object.getOwnPropertyDescriptor(globalThis, name)] as const);
  try {
    for (const name of names) {
      Object.defineProperty(globalThis, name, {value: undefined, configurable: true, writable: true});
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('axios');
  } finally {
    for (const [name, descriptor] of saved) {
      if (descriptor) Object.defineProperty(globalThis, name, descriptor);
      else delete (globalThis as Record<string, unknown>)[name];
    }
  }
}

function apiError(response: AxiosResponse): ApiError {
  const header = response.headers?.['x-request-id'];
  const headerId = typeof header === 'string' ? header : undefined;
  const body = response.data as {error?: {code?: unknown; message?: unknown; requestId?: unknown; details?: unknown}};
  const e = body && typeof body === 'object' ? body.error : undefined;
  if (e && typeof e.message === 'string') {
    return new ApiError(
      response.status,
      typeof e.code === 'string' ? e.code : `http_${response.status}`,
      e.message,
      typeof e.requestId === 'string' ? e.requestId : headerId,
      e.details,
    );
  }
  const text = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  return new ApiError(response.status, `http_${response.status}`, `The redfly API answered ${text}`, headerId);
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

export function newIdempotencyKey(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:crypto') as typeof import('node:crypto')).randomUUID();
}

/** An https agent that trusts the given CA file as well as the system's. */
function httpsAgentWithCa(caFile: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const https = require('node:https') as typeof import('node:https');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const {readFileSync} = require('node:fs') as typeof import('node:fs');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const {rootCertificates} = require('node:tls') as typeof import('node:tls');
  return new https.Agent({ca: [...rootCertificates, readFileSync(caFile, 'utf8')]});
}
