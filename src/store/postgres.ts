// The records in PostgreSQL, shared by several control-plane nodes (REDFLY_DATABASE_URL). Every
// write NOTIFYs its change on one channel in the same transaction, so it is sent only if the
// write commits; every node LISTENs on a dedicated connection and announces the changes of the
// other nodes, its own ones being announced right after the commit (so once each).
import {randomUUID} from 'node:crypto';
import {Client, Pool, PoolClient} from 'pg';
import {pgOptions} from './pg-options';
import {pgMigrate} from './pg-migrate';
import {inTransaction} from './pg-transaction';
import {
  databaseColumns,
  DbRow,
  groupProcs,
  HOSTS_ORDER,
  HostRow,
  hostValues,
  hydrateDatabase,
  hydrateHost,
  hydrateOrg,
  hydrateToken,
  OrgRow,
  ProcRow,
  TokenRow,
} from './rows';
import {announceTo} from './announce';
import {
  DatabasePatch,
  DatabaseRecord,
  HostRecord,
  IdempotencyRecord,
  ListQuery,
  NameTakenError,
  OrgRecord,
  ProcessRecord,
  SlugTakenError,
  Store,
  StoreChange,
  StoreListener,
  TokenRecord,
} from './types';

/** The NOTIFY channel of the store's changes; the payload is {origin, change} as JSON. */
export const CHANGES_CHANNEL = 'redfly_changes';

/** How long the LISTEN connection waits before each new attempt after it was lost (ms). */
const RECONNECT_MS = [100, 250, 500, 1000, 2000, 5000];

type Querier = Pick<PoolClient, 'query'>;

export interface PgStoreOptions {
  /** Connections of the pool (default 10). */
  maxConnections?: number;
  /** Told when the LISTEN connection is lost or back (default: stderr). */
  log?: (msg: string) => void;
}

/** The records in a PostgreSQL database (the `pg` driver's Pool). Open with PgStore.open(). */
export class PgStore implements Store {
  private readonly listeners = new Set<StoreListener>();
  /** Tells this node's own NOTIFYs from the other nodes' ones. */
  private readonly origin = randomUUID();
  private listenClient: Client | null = null;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly url: string,
    private readonly pool: Pool,
    private readonly log: (msg: string) => void,
  ) {}

  /**
   * Connects, brings the schema to the latest version (under an advisory lock: nodes starting
   * at once take turns) and starts listening for the other nodes' changes. Throws the driver's
   * error when the database cannot be reached or a migration fails.
   */
  static async open(url: string, opts: PgStoreOptions = {}): Promise<PgStore> {
    const pool = new Pool({...pgOptions(url), max: opts.maxConnections ?? 10});
    // An idle connection that breaks (server restart) must not crash the process.
    pool.on('error', () => undefined);
    const store = new PgStore(url, pool, opts.log ?? ((m) => console.error(m)));
    try {
      await pgMigrate(pool);
      await store.listen();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  // ---- changes

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async listen(): Promise<void> {
    const client = new Client(pgOptions(this.url));
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (msg) => {
      if (msg.channel !== CHANGES_CHANNEL || !msg.payload) return;
      let parsed: {origin?: string; change?: StoreChange};
      try {
        parsed = JSON.parse(msg.payload) as {origin?: string; change?: StoreChange};
      } catch {
        return;
      }
      if (parsed.origin === this.origin || !parsed.change) return; // announced at its commit
      void announceTo(this.listeners, parsed.change);
    });
    await client.connect();
    await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    this.listenClient = client;
  }

  /** The LISTEN connection broke: reconnect, then have every cache reread everything (changes
   *  made meanwhile were not heard). */
  private lost(client: Client, attempt = 0): void {
    if (this.closed || (this.listenClient !== client && attempt === 0)) return;
    this.listenClient = null;
    client.removeAllListeners();
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    if (attempt === 0) this.log('store: the LISTEN connection to PostgreSQL was lost; reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.closed) return;
      this.listen().then(
        () => {
          this.log('store: listening to PostgreSQL again; rereading every record');
          void announceTo(this.listeners, {kind: 'all'});
        },
        () => this.lost(client, attempt + 1),
      );
    }, RECONNECT_MS[Math.min(attempt, RECONNECT_MS.length - 1)]);
    this.reconnectTimer.unref();
  }

  /** Runs fn in a transaction; the changes it returns are NOTIFYd inside it and announced to
   *  this node's listeners after the commit. */
  private async write<T>(fn: (q: Querier) => Promise<{result: T; changes: StoreChange[]}>): Promise<T> {
    const out = await inTransaction(this.pool, async (client) => {
      const done = await fn(client);
      for (const change of done.changes) {
        await client.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, JSON.stringify({origin: this.origin, change})]);
      }
      return done;
    });
    for (const change of out.changes) await announceTo(this.listeners, change);
    return out.result;
  }

  private async rows<R>(sql: string, params: unknown[] = [], q: Querier = this.pool): Promise<R[]> {
    return (await q.query(sql, params)).rows as R[];
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const c = this.listenClient;
    this.listenClient = null;
    if (c) {
      c.removeAllListeners();
      c.on('error', () => undefined);
      await c.end().catch(() => undefined);
    }
    await this.pool.end().catch(() => undefined);
  }

  // ---- organizations

  async createOrg(org: OrgRecord, grantTokenId?: string): Promise<void> {
    try {
      await this.write(async (q) => {
        await q.query('INSERT INTO organizations (slug, name, type, cache_password, created_at) VALUES ($1, $2, $3, $4, $5)', [
          org.slug,
          org.name,
          org.type,
          org.cachePassword,
          org.createdAt,
        ]);
        if (grantTokenId) await grant(q, grantTokenId, org.slug);
        return {result: undefined, changes: [{kind: 'org', slug: org.slug}]};
      });
    } catch (err) {
      if (uniqueViolation(err) === 'organizations_pkey') throw new SlugTakenError(org.slug);
      throw err;
    }
  }

  async getOrg(slug: string): Promise<OrgRecord | undefined> {
    const [row] = await this.rows<OrgRow>('SELECT * FROM organizations WHERE slug = $1', [slug]);
    return row && hydrateOrg(row);
  }

  async listOrgs(slugs: string[]): Promise<OrgRecord[]> {
    const rows = await this.rows<OrgRow>('SELECT * FROM organizations WHERE slug = ANY($1)', [slugs]);
    const bySlug = new Map(rows.map((r) => [r.slug, hydrateOrg(r)]));
    // in the order asked, as the SQLite store answers
    return slugs.map((s) => bySlug.get(s)).filter((o): o is OrgRecord => o !== undefined);
  }

  async allOrgs(): Promise<OrgRecord[]> {
    return (await this.rows<OrgRow>('SELECT * FROM organizations ORDER BY slug')).map(hydrateOrg);
  }

  // ---- tokens

  async createToken(token: TokenRecord): Promise<void> {
    await this.write(async (q) => {
      await q.query('INSERT INTO tokens (id, name, secret_sha256, scope, created_at) VALUES ($1, $2, $3, $4, $5)', [
        token.id,
        token.name,
        token.secretSha256,
        token.scope,
        token.createdAt,
      ]);
      for (const org of token.orgs) await grant(q, token.id, org);
      return {result: undefined, changes: []};
    });
  }

  async findTokenBySecretHash(secretSha256: string): Promise<TokenRecord | undefined> {
    return this.tokenWhere('secret_sha256 = $1', secretSha256);
  }

  async getToken(id: string): Promise<TokenRecord | undefined> {
    return this.tokenWhere('id = $1', id);
  }

  private async tokenWhere(where: string, value: string): Promise<TokenRecord | undefined> {
    const [row] = await this.rows<TokenRow & {orgs: string[] | null}>(
      `SELECT t.*, (SELECT array_agg(org_slug ORDER BY org_slug) FROM token_orgs WHERE token_id = t.id) AS orgs
         FROM tokens t WHERE t.${where}`,
      [value],
    );
    return row && hydrateToken(row, row.orgs ?? []);
  }

  async listTokens(org: string): Promise<TokenRecord[]> {
    const rows = await this.rows<TokenRow & {orgs: string[] | null}>(
      `SELECT t.*, (SELECT array_agg(org_slug ORDER BY org_slug) FROM token_orgs WHERE token_id = t.id) AS orgs
         FROM tokens t JOIN token_orgs o ON o.token_id = t.id WHERE o.org_slug = $1 ORDER BY t.created_at, t.id`,
      [org],
    );
    return rows.map((r) => hydrateToken(r, r.orgs ?? []));
  }

  async touchToken(id: string, at: string, minIntervalMs: number): Promise<void> {
    const before = new Date(Date.parse(at) - minIntervalMs).toISOString();
    await this.pool.query('UPDATE tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)', [at, id, before]);
  }

  async deleteToken(id: string): Promise<void> {
    // grants and idempotency keys go with it (ON DELETE CASCADE)
    await this.pool.query('DELETE FROM tokens WHERE id = $1', [id]);
  }

  // ---- databases

  async insertDatabase(db: DatabaseRecord, idem?: {key: string; tokenId: string; requestSha256: string}): Promise<void> {
    const c = databaseColumns(db);
    try {
      await this.write(async (q) => {
        await q.query(
          `INSERT INTO databases (id, name, org_slug, plan, primary_region, read_regions, eviction, status, status_message,
             password, rest_token, read_only_rest_token, redis_settings, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
          [c.id, c.name, c.org, c.plan, c.primaryRegion, c.readRegions, c.eviction, c.status, c.statusMessage, c.password,
            c.restToken, c.readOnlyRestToken, c.redisSettings, c.createdAt, c.updatedAt],
        );
        await insertProcs(q, db.id, db.processes);
        if (idem) {
          await q.query('INSERT INTO idempotency_keys (key, token_id, request_sha256, database_id, created_at) VALUES ($1, $2, $3, $4, $5)', [
            idem.key,
            idem.tokenId,
            idem.requestSha256,
            db.id,
            db.createdAt,
          ]);
        }
        return {result: undefined, changes: [{kind: 'database', id: db.id}]};
      });
    } catch (err) {
      if (uniqueViolation(err) === 'databases_name_per_org') throw new NameTakenError(db.name);
      throw err;
    }
  }

  async getDatabase(id: string): Promise<DatabaseRecord | undefined> {
    return (await this.databasesWhere('id = $1', [id]))[0];
  }

  /** The records of the rows matching `where` (and `tail`: ORDER BY, LIMIT), with their processes. */
  private async databasesWhere(where: string, params: unknown[], tail = '', q: Querier = this.pool): Promise<DatabaseRecord[]> {
    const rows = await this.rows<DbRow>(`SELECT * FROM databases WHERE ${where} ${tail}`, params, q);
    if (rows.length === 0) return [];
    const procs = await this.rows<ProcRow>('SELECT * FROM database_processes WHERE database_id = ANY($1)', [rows.map((r) => r.id)], q);
    const byDb = groupProcs(procs);
    return rows.map((r) => hydrateDatabase(r, byDb.get(r.id) ?? []));
  }

  async findDatabasesByName(name: string, orgs: string[]): Promise<DatabaseRecord[]> {
    if (orgs.length === 0) return [];
    return this.databasesWhere('name = $1 AND org_slug = ANY($2)', [name, orgs], 'ORDER BY org_slug');
  }

  async listDatabases(q: ListQuery): Promise<DatabaseRecord[]> {
    if (q.orgs.length === 0) return [];
    const params: unknown[] = [q.orgs];
    let where = 'org_slug = ANY($1)';
    if (q.after) {
      where += ' AND (created_at, id) > ($2, $3)';
      params.push(q.after.createdAt, q.after.id);
    }
    params.push(q.limit + 1);
    return this.databasesWhere(where, params, `ORDER BY created_at, id LIMIT $${params.length}`);
  }

  async countDatabases(orgs: string[]): Promise<number> {
    if (orgs.length === 0) return 0;
    const [row] = await this.rows<{n: string}>('SELECT COUNT(*) AS n FROM databases WHERE org_slug = ANY($1)', [orgs]);
    return Number(row.n);
  }

  async allDatabases(): Promise<DatabaseRecord[]> {
    return this.databasesWhere('TRUE', [], 'ORDER BY created_at, id');
  }

  async updateDatabase(id: string, patch: DatabasePatch): Promise<DatabaseRecord | undefined> {
    return this.write(async (q) => {
      // the row stays locked until the commit: concurrent updates of one record take turns
      const [current] = await this.databasesWhere('id = $1', [id], 'FOR UPDATE', q);
      if (!current) return {result: undefined, changes: [{kind: 'database', id}]};
      const next: DatabaseRecord = {...current, ...patch, updatedAt: new Date().toISOString()};
      const c = databaseColumns(next);
      await q.query(
        `UPDATE databases SET plan = $1, read_regions = $2, eviction = $3, status = $4, status_message = $5, password = $6,
           rest_token = $7, read_only_rest_token = $8, redis_settings = $9, updated_at = $10 WHERE id = $11`,
        [c.plan, c.readRegions, c.eviction, c.status, c.statusMessage, c.password, c.restToken, c.readOnlyRestToken, c.redisSettings, c.updatedAt, id],
      );
      if (patch.processes) {
        await q.query('DELETE FROM database_processes WHERE database_id = $1', [id]);
        await insertProcs(q, id, patch.processes);
      }
      return {result: next, changes: [{kind: 'database', id}]};
    });
  }

  async deleteDatabase(id: string): Promise<void> {
    // processes and idempotency keys go with it (ON DELETE CASCADE)
    await this.write(async (q) => {
      await q.query('DELETE FROM databases WHERE id = $1', [id]);
      return {result: undefined, changes: [{kind: 'database', id}]};
    });
  }

  async nameExists(org: string, name: string): Promise<boolean> {
    return (await this.rows('SELECT 1 FROM databases WHERE org_slug = $1 AND name = $2', [org, name])).length > 0;
  }

  async findIdempotency(key: string, tokenId: string): Promise<IdempotencyRecord | undefined> {
    const [row] = await this.rows<{request_sha256: string; database_id: string}>(
      'SELECT request_sha256, database_id FROM idempotency_keys WHERE key = $1 AND token_id = $2',
      [key, tokenId],
    );
    return row && {requestSha256: row.request_sha256, databaseId: row.database_id};
  }

  // ---- hosts

  async upsertHost(host: HostRecord): Promise<void> {
    await this.write(async (q) => {
      await q.query(
        `INSERT INTO hosts (id, role, region, address, api_url, gateway_port, rest_port, pid, started_at, last_seen_at, report)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET role = excluded.role, region = excluded.region, address = excluded.address,
           api_url = excluded.api_url, gateway_port = excluded.gateway_port, rest_port = excluded.rest_port, pid = excluded.pid,
           started_at = excluded.started_at, last_seen_at = excluded.last_seen_at, report = excluded.report`,
        hostValues(host),
      );
      return {result: undefined, changes: [{kind: 'host', id: host.id}]};
    });
  }

  async getHost(id: string): Promise<HostRecord | undefined> {
    const [row] = await this.rows<HostRow>('SELECT * FROM hosts WHERE id = $1', [id]);
    return row && hydrateHost(row);
  }

  async listHosts(): Promise<HostRecord[]> {
    return (await this.rows<HostRow>(`SELECT * FROM hosts ${HOSTS_ORDER}`)).map(hydrateHost);
  }

  async deleteHost(id: string): Promise<void> {
    await this.write(async (q) => {
      await q.query('DELETE FROM hosts WHERE id = $1', [id]);
      return {result: undefined, changes: [{kind: 'host', id}]};
    });
  }
}

async function grant(q: Querier, tokenId: string, org: string): Promise<void> {
  await q.query('INSERT INTO token_orgs (token_id, org_slug) VALUES ($1, $2) ON CONFLICT DO NOTHING', [tokenId, org]);
}

async function insertProcs(q: Querier, id: string, procs: ProcessRecord[]): Promise<void> {
  for (const p of procs) {
    await q.query('INSERT INTO database_processes (database_id, region, role, port, host) VALUES ($1, $2, $3, $4, $5)', [
      id,
      p.region,
      p.role,
      p.port,
      p.host ?? null,
    ]);
  }
}

/** The constraint a unique violation (SQLSTATE 23505) broke, else undefined. */
function uniqueViolation(err: unknown): string | undefined {
  const e = err as {code?: string; constraint?: string};
  return e.code === '23505' ? e.constraint : undefined;
}
