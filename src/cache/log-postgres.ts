// Database 1's log in PostgreSQL, shared by every region host (REDFLY_DATABASE_URL): a command
// acknowledged on one host is replayed by the appliers of every host, in one order, exactly
// once. Ordering: each organization has a counter row (cache_log_orgs.last_seq) that an append
// updates in the same transaction as its insert; the row lock holds every other appender of
// that organization until commit, so sequences are gap-free in commit order and a reader of
// "seq > cursor" never skips an entry committed later with a smaller sequence. Throughput:
// appends of one tick (from many clients) share one transaction. Wake-up: the transaction
// NOTIFYs channel redfly_cache_log, every host LISTENs; the appliers' 1 s poll is the fallback.
// XADD '*' IDs: the same row holds the organization's stream clock (stream_ms, stream_seq), read
// under that lock, so IDs increase in log order across hosts whose clocks differ.
import {Pool, PoolClient} from 'pg';
import {pgOptions} from '../store/pg-options';
import {orgStateIn, splitPage} from './log-api';
import type {CacheLog, LogEntry, OrgLogState, PendingAppend, RegionCounters} from './log-api';
import {pgMigrateSteps, PgMigrationStep} from '../store/pg-migrate';
import {inTransaction} from '../store/pg-transaction';
import {AppendPayload, settlePayload, StreamClock} from './stream-ids';

export const LOG_CHANNEL = 'redfly_cache_log';
const MAX_APPENDS_PER_TX = 5000;

/** The log's tables, migrated with the store's mechanism (schema_migrations, its advisory
 *  lock: hosts starting together take turns). Versions are prefixed "cache_log_". */
const MIGRATIONS: PgMigrationStep[] = [
  {
    version: 'cache_log_001_initial',
    sql: () => `
      CREATE TABLE cache_log_orgs (
        org TEXT PRIMARY KEY,
        last_seq BIGINT NOT NULL,
        first_seq BIGINT NOT NULL,
        bytes BIGINT NOT NULL,
        entries BIGINT NOT NULL,
        trimmed BIGINT NOT NULL
      );
      CREATE TABLE cache_log_entries (
        org TEXT NOT NULL,
        seq BIGINT NOT NULL,
        accepted_at BIGINT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        payload BYTEA NOT NULL,
        PRIMARY KEY (org, seq)
      );
      CREATE TABLE cache_log_regions (
        org TEXT NOT NULL,
        region TEXT NOT NULL,
        high_water BIGINT NOT NULL,
        dropped BIGINT NOT NULL,
        replay_errors BIGINT NOT NULL,
        last_error TEXT,
        PRIMARY KEY (org, region)
      );`,
  },
  {
    version: 'cache_log_002_stream_clock',
    sql: () => `
      ALTER TABLE cache_log_orgs ADD COLUMN stream_ms BIGINT NOT NULL DEFAULT 0;
      ALTER TABLE cache_log_orgs ADD COLUMN stream_seq BIGINT NOT NULL DEFAULT 0;`,
  },
];

// A page of the log as one row (see read()); @ORDER is '' or ' ORDER BY seq'. The scan has an
// upper bound as well as the lower one: with only "seq > $2", a table whose statistics lag its
// growth (a log fills faster than autovacuum analyzes it) got a bitmap scan of every entry after
// the cursor and a sort on disk, 200 ms a page at 200,000 entries behind and 20 ms near the end:
// catch-up slowed with the backlog. The bound is exact because sequences are gap-free above
// first_seq (appends take the organization's row lock; a trim moves first_seq in the same
// transaction as its delete), and it starts from first_seq when the cursor is below it.
const PAGE_SQL = `SELECT string_agg(payload, ''::bytea@ORDER) AS data, string_agg(seq::text, ','@ORDER) AS seqs,
         string_agg(accepted_at::text, ','@ORDER) AS ats, string_agg(bytes::text, ','@ORDER) AS lens
  FROM (SELECT seq, accepted_at, payload, bytes, sum(bytes) OVER (ORDER BY seq) AS run
        FROM cache_log_entries
        WHERE org = $1 AND seq > $2
          AND seq <= (SELECT greatest($2, first_seq - 1) FROM cache_log_orgs WHERE org = $1) + $3
        ORDER BY seq LIMIT $3) t
  WHERE run - bytes = 0 OR run <= $4`;
const PAGE = PAGE_SQL.replace(/@ORDER/g, '');
const PAGE_SORTED = PAGE_SQL.replace(/@ORDER/g, ' ORDER BY seq');

type OrgRow = {org: string; last_seq: string; first_seq: string; bytes: string; entries: string; trimmed: string};

const toState = (r: OrgRow): OrgLogState => ({
  lastSeq: Number(r.last_seq),
  firstSeq: Number(r.first_seq),
  bytes: Number(r.bytes),
  entries: Number(r.entries),
  trimmed: Number(r.trimmed),
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class PostgresLog implements CacheLog {
  readonly kind = 'postgres' as const;
  private readonly orgs = new Map<string, OrgLogState>();
  private readonly listeners: Array<(org: string, lastSeq: number) => void> = [];
  private queue: PendingAppend[] = [];
  private flushing: Promise<void> | null = null;
  private listener: PoolClient | null = null;
  private listening: Promise<void> | null = null;
  private closed = false;

  private constructor(private readonly pool: Pool) {}

  /** Connects (a pool of up to 8 connections plus one that LISTENs), migrates the schema and
   *  loads every organization's figures. Rejects when PostgreSQL cannot be reached. A query
   *  unanswered after `queryTimeoutMs` (default 30 s; a page of 8 MB takes well under one) fails
   *  and its connection is dropped: the applier that asked retries on a new one, instead of
   *  waiting for TCP to give up on a network that went silent (pg-options.ts). */
  static async open(url: string, opts: {queryTimeoutMs?: number} = {}): Promise<PostgresLog> {
    const pool = new Pool({...pgOptions(url, {queryTimeoutMs: opts.queryTimeoutMs ?? 30_000}), max: 8});
    pool.on('error', () => undefined); // an idle connection dropped: the next query opens another
    // A checked-out connection that drops between two queries (PostgreSQL restarted) emits
    // 'error' with no listener, which would end the process; its next query fails instead.
    pool.on('connect', (client) => client.on('error', () => undefined));
    try {
      await pgMigrateSteps(pool, MIGRATIONS);
      const log = new PostgresLog(pool);
      await log.housekeeping();
      await log.listen();
      return log;
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
  }

  private async listen(): Promise<void> {
    const c = await this.pool.connect();
    this.listener = c;
    c.on('notification', (msg) => {
      if (msg.channel !== LOG_CHANNEL || !msg.payload) return;
      try {
        const {org, lastSeq} = JSON.parse(msg.payload) as {org: string; lastSeq: number};
        this.seen(org, lastSeq);
      } catch {
        /* not ours */
      }
    });
    c.on('error', () => {
      // Lost: listen again (with a pause); meanwhile the appliers' poll keeps them going.
      c.release(true);
      if (this.listener === c) this.listener = null;
      if (!this.closed) this.listening ??= this.relisten().finally(() => (this.listening = null));
    });
    await c.query(`LISTEN ${LOG_CHANNEL}`);
  }

  private async relisten(): Promise<void> {
    while (!this.closed) {
      await sleep(500);
      try {
        await this.listen();
        return;
      } catch {
        /* again */
      }
    }
  }

  /** An organization reached `lastSeq` (here or on another host). */
  private seen(org: string, lastSeq: number): void {
    const s = this.state(org);
    if (lastSeq <= s.lastSeq) return;
    s.entries += lastSeq - s.lastSeq; // approximate until the next refresh
    s.lastSeq = lastSeq;
    for (const l of this.listeners) l(org, lastSeq);
  }

  state(org: string): OrgLogState {
    return orgStateIn(this.orgs, org);
  }

  private setState(org: string, next: OrgLogState): OrgLogState {
    const s = this.state(org);
    const grew = next.lastSeq > s.lastSeq;
    Object.assign(s, next, {lastSeq: Math.max(s.lastSeq, next.lastSeq)});
    if (grew) for (const l of this.listeners) l(org, s.lastSeq);
    return s;
  }

  async refresh(org: string): Promise<OrgLogState> {
    const r = await this.pool.query<OrgRow>('SELECT * FROM cache_log_orgs WHERE org = $1', [org]);
    return r.rows.length > 0 ? this.setState(org, toState(r.rows[0])) : this.state(org);
  }

  knownOrgs(): string[] {
    return [...this.orgs.keys()];
  }

  onAppend(listener: (org: string, lastSeq: number) => void): void {
    this.listeners.push(listener);
  }

  append(org: string, acceptedAt: number, region: string, name: string, payload: AppendPayload): Promise<number> {
    if (this.closed) return Promise.reject(new Error('the log is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({org, acceptedAt, region, name, payload, resolve, reject});
      // The first append of a tick waits for the others of that tick; later ones wait for the
      // transaction in flight: one commit for many clients.
      this.flushing ??= new Promise<void>((r) => setImmediate(r)).then(() => this.flushAll());
    });
  }

  private async flushAll(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_APPENDS_PER_TX);
        try {
          const seqs = await this.commit(batch);
          batch.forEach((p, i) => p.resolve(seqs[i]));
        } catch (err) {
          for (const p of batch) p.reject(err as Error);
        }
      }
    } finally {
      // Cleared in the same turn as the last look at the queue: an append made when one of this
      // batch's promises resolves (a later microtask) starts a new flush. Cleared in a .finally()
      // of its own, one microtask late, such an append found the flush still marked running and
      // was never committed (appends awaited one after another: the second one never resolved).
      this.flushing = null;
    }
  }

  /** One transaction for the batch; resolves with each append's sequence. */
  private async commit(batch: PendingAppend[]): Promise<number[]> {
    const byOrg = new Map<string, number[]>(); // org -> indexes in batch, in order
    batch.forEach((p, i) => {
      const list = byOrg.get(p.org);
      if (list) list.push(i);
      else byOrg.set(p.org, [i]);
    });
    const seqs = new Array<number>(batch.length);
    const states: Array<[string, OrgLogState]> = [];
    await inTransaction(this.pool, async (c) => {
      // Counter rows locked in one order on every host: two hosts' transactions never deadlock.
      for (const org of [...byOrg.keys()].sort()) {
        const items = byOrg.get(org)!.map((i) => batch[i]);
        await c.query('INSERT INTO cache_log_orgs VALUES ($1, 0, 1, 0, 0, 0) ON CONFLICT (org) DO NOTHING', [org]);
        let clock: StreamClock | null = null;
        if (items.some((p) => !Buffer.isBuffer(p.payload))) {
          // An XADD: its ID follows the last one logged, read under the row's lock.
          const locked = await c.query<{stream_ms: string; stream_seq: string}>(
            'SELECT stream_ms, stream_seq FROM cache_log_orgs WHERE org = $1 FOR UPDATE',
            [org],
          );
          clock = {ms: Number(locked.rows[0].stream_ms), seq: Number(locked.rows[0].stream_seq)};
        }
        const payloads = items.map((p) => {
          if (Buffer.isBuffer(p.payload)) return p.payload;
          const settled = settlePayload(p.payload, clock!, p.acceptedAt);
          clock = settled.clock;
          return settled.payload;
        });
        const bytes = payloads.reduce((n, b) => n + b.length, 0);
        const r = await c.query<OrgRow>(
          `UPDATE cache_log_orgs SET last_seq = last_seq + $2, bytes = bytes + $3, entries = entries + $2,
             stream_ms = coalesce($4, stream_ms), stream_seq = coalesce($5, stream_seq)
           WHERE org = $1 RETURNING *`,
          [org, items.length, bytes, clock?.ms ?? null, clock?.seq ?? null],
        );
        const state = toState(r.rows[0]);
        const first = state.lastSeq - items.length + 1;
        await c.query(
          `INSERT INTO cache_log_entries (org, seq, accepted_at, region, name, bytes, payload)
           SELECT $1, s, a, r, n, b, p FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::int[], $7::bytea[]) AS t(s, a, r, n, b, p)`,
          [
            org,
            items.map((_, k) => first + k),
            items.map((p) => p.acceptedAt),
            items.map((p) => p.region),
            items.map((p) => p.name),
            payloads.map((b) => b.length),
            payloads,
          ],
        );
        byOrg.get(org)!.forEach((i, k) => (seqs[i] = first + k));
        await c.query('SELECT pg_notify($1, $2)', [LOG_CHANNEL, JSON.stringify({org, lastSeq: state.lastSeq})]);
        states.push([org, state]);
      }
    });
    for (const [org, state] of states) this.setState(org, state);
    return seqs;
  }

  async read(org: string, afterSeq: number, maxEntries: number, maxBytes: number): Promise<LogEntry[]> {
    // One page in one query: the running sum of sizes stops it at maxBytes (the first entry is
    // always included, however large); the LIMIT bounds the scan of the (org, seq) index. The
    // page comes back as one row of concatenations (one bytea, three lists): decoding 10,000
    // rows in pg's JavaScript parser cost this process more CPU than applying them costs Redis,
    // on the same cores. (pg's per-query binary format would save the hex, but it decodes every
    // field as UTF-8 text first, which mangles a bytea.) The aggregates take the
    // subquery's order (an ORDER BY inside each would sort the page four more times); splitPage
    // checks it, and an out-of-order page is read again with the sorted form.
    let out = await this.readPage(PAGE, org, afterSeq, maxEntries, maxBytes);
    if (out === null) out = (await this.readPage(PAGE_SORTED, org, afterSeq, maxEntries, maxBytes))!;
    if (out.length > 0) this.seen(org, out[out.length - 1].seq);
    return out;
  }

  /** One page as concatenations (PAGE_SQL); null when its entries are not in sequence order. */
  private async readPage(sql: string, org: string, afterSeq: number, maxEntries: number, maxBytes: number): Promise<LogEntry[] | null> {
    const r = await this.pool.query<{data: Buffer | null; seqs: string; ats: string; lens: string}>(sql, [org, afterSeq, maxEntries, maxBytes]);
    const row = r.rows[0];
    if (row.data === null) return [];
    return splitPage(row.data, row.seqs, row.ats, row.lens);
  }

  async acceptedAfter(org: string, afterSeq: number): Promise<number | null> {
    const r = await this.pool.query<{accepted_at: string}>(
      'SELECT accepted_at FROM cache_log_entries WHERE org = $1 AND seq > $2 ORDER BY seq LIMIT 1',
      [org, afterSeq],
    );
    return r.rows.length > 0 ? Number(r.rows[0].accepted_at) : null;
  }

  async trim(org: string, now: number, maxAgeMs: number, maxBytes: number): Promise<number> {
    const s = this.state(org);
    if (s.entries === 0) return 0;
    if (s.bytes <= maxBytes) {
      const oldest = await this.acceptedAfter(org, 0);
      if (oldest === null || oldest >= now - maxAgeMs) return 0;
    }
    const trimmed = await inTransaction(this.pool, async (c) => {
      const locked = await c.query<OrgRow>('SELECT * FROM cache_log_orgs WHERE org = $1 FOR UPDATE', [org]);
      if (locked.rows.length === 0) return null;
      const cur = toState(locked.rows[0]);
      const byAge = await c.query<{seq: string | null}>(
        'SELECT max(seq) AS seq FROM cache_log_entries WHERE org = $1 AND accepted_at < $2',
        [org, now - maxAgeMs],
      );
      let cut = Number(byAge.rows[0].seq ?? 0);
      if (cur.bytes > maxBytes) {
        const bySize = await c.query<{seq: string}>(
          `SELECT seq FROM (SELECT seq, sum(bytes) OVER (ORDER BY seq) AS run FROM cache_log_entries WHERE org = $1) t
           WHERE run >= $2 ORDER BY seq LIMIT 1`,
          [org, cur.bytes - maxBytes],
        );
        if (bySize.rows.length > 0) cut = Math.max(cut, Number(bySize.rows[0].seq));
      }
      if (cut < cur.firstSeq) return null;
      const gone = await c.query<{n: string; bytes: string}>(
        `WITH d AS (DELETE FROM cache_log_entries WHERE org = $1 AND seq <= $2 RETURNING bytes)
         SELECT count(*) AS n, coalesce(sum(bytes), 0) AS bytes FROM d`,
        [org, cut],
      );
      const n = Number(gone.rows[0].n);
      const r = await c.query<OrgRow>(
        `UPDATE cache_log_orgs SET first_seq = $2, bytes = bytes - $3, entries = entries - $4, trimmed = trimmed + $4
         WHERE org = $1 RETURNING *`,
        [org, cut + 1, Number(gone.rows[0].bytes), n],
      );
      return {n, state: toState(r.rows[0])};
    });
    if (trimmed === null) return 0;
    this.setState(org, trimmed.state);
    return trimmed.n;
  }

  /** Re-reads every organization's figures: appends, trims and drops made by other hosts. */
  async housekeeping(): Promise<void> {
    const r = await this.pool.query<OrgRow>('SELECT * FROM cache_log_orgs');
    const present = new Set<string>();
    for (const row of r.rows) {
      present.add(row.org);
      this.setState(row.org, toState(row));
    }
    for (const org of this.orgs.keys()) if (!present.has(org) && this.orgs.get(org)!.lastSeq > 0) this.orgs.delete(org);
  }

  async dropOrg(org: string): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      for (const table of ['cache_log_entries', 'cache_log_orgs', 'cache_log_regions']) {
        await c.query(`DELETE FROM ${table} WHERE org = $1`, [org]);
      }
    });
    this.orgs.delete(org);
  }

  async regionCounters(org: string, region: string): Promise<RegionCounters> {
    const r = await this.pool.query<{high_water: string; dropped: string; replay_errors: string; last_error: string | null}>(
      'SELECT high_water, dropped, replay_errors, last_error FROM cache_log_regions WHERE org = $1 AND region = $2',
      [org, region],
    );
    const row = r.rows[0];
    return row
      ? {highWater: Number(row.high_water), dropped: Number(row.dropped), replayErrors: Number(row.replay_errors), lastError: row.last_error}
      : {highWater: 0, dropped: 0, replayErrors: 0, lastError: null};
  }

  async saveRegionCounters(org: string, region: string, c: RegionCounters): Promise<void> {
    await this.pool.query(
      `INSERT INTO cache_log_regions (org, region, high_water, dropped, replay_errors, last_error) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (org, region) DO UPDATE SET high_water = excluded.high_water, dropped = excluded.dropped,
         replay_errors = excluded.replay_errors, last_error = excluded.last_error`,
      [org, region, c.highWater, c.dropped, c.replayErrors, c.lastError],
    );
  }

  /** Waits for the appends in flight, then closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    await this.listening;
    this.listener?.release(true);
    this.listener = null;
    await this.pool.end();
  }
}
