// The durable, ordered per-organization log of database-1 commands. It is the single sequencer
// of an organization: one sequence number per accepted command, so every region applies the
// same commands in the same order. An entry is written here (SQLite, WAL) before the client gets
// +OK. With synchronous=NORMAL a committed entry is in the WAL file, i.e. in the kernel, before
// the call returns, so it survives a crash of the server process; 'machine' durability adds an
// fsync per commit for power loss at a cost in throughput.
import Database from 'better-sqlite3';
import {randomBytes} from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {Worker} from 'node:worker_threads';
import {orgStateIn, splitPage} from './log-api';
import type {CacheLog, LogEntry, OrgLogState, PendingAppend, RegionCounters} from './log-api';
import {AppendPayload, settlePayload, StreamClock} from './stream-ids';

export type {CacheLog, LogEntry, OrgLogState, RegionCounters} from './log-api';

// Checkpoints copy the WAL into the database file and are the only fsync with
// synchronous=NORMAL. Done on the main thread (SQLite's default, every 4 MB of WAL) they would
// stall the event loop that also serves the gateway, for tens of ms with large values. A worker
// thread with its own connection checkpoints instead; WAL lets the main thread keep appending.
const CHECKPOINT_WORKER = `
const {workerData, parentPort} = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage(String(err)); }
}, 200);
`;

function startCheckpointer(file: string, onFailure: () => void): Worker | null {
  try {
    const worker = new Worker(CHECKPOINT_WORKER, {eval: true, workerData: {file, driver: require.resolve('better-sqlite3')}});
    worker.unref();
    worker.on('error', onFailure);
    worker.on('exit', (code) => {
      if (code !== 1) return; // terminate() on close
      onFailure();
    });
    return worker;
  } catch {
    return null;
  }
}

/** What one append transaction wrote: each append's sequence and logged bytes, and the
 *  organizations' stream clocks after it. */
interface Committed {
  seqs: number[];
  payloads: Buffer[];
  clocks: Map<string, StreamClock>;
}

export interface BackendRecord {
  org: string;
  region: string;
  port: number;
  secret: string;
  pid: number | null;
}


const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  org TEXT NOT NULL,
  seq INTEGER NOT NULL,
  accepted_at INTEGER NOT NULL,
  region TEXT NOT NULL,
  name TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  payload BLOB NOT NULL,
  PRIMARY KEY (org, seq)
);
CREATE TABLE IF NOT EXISTS orgs (
  org TEXT PRIMARY KEY,
  last_seq INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  entries INTEGER NOT NULL,
  trimmed INTEGER NOT NULL,
  stream_ms INTEGER NOT NULL DEFAULT 0,
  stream_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS regions (
  org TEXT NOT NULL,
  region TEXT NOT NULL,
  high_water INTEGER NOT NULL,
  dropped INTEGER NOT NULL,
  replay_errors INTEGER NOT NULL,
  last_error TEXT,
  PRIMARY KEY (org, region)
);
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS backends (
  org TEXT NOT NULL,
  region TEXT NOT NULL,
  port INTEGER NOT NULL,
  secret TEXT NOT NULL,
  pid INTEGER,
  PRIMARY KEY (org, region)
);
`;

// The newest entries of each organization stay in memory, so the appliers of every region read
// what was just appended without going back to SQLite (and without copying large values out of
// it once per region); a region that is far behind reads from SQLite.
const TAIL_MAX_BYTES = 16 * 1024 * 1024;
const TAIL_MAX_ENTRIES = 20_000;
const TAIL_IDLE_MS = 30_000; // an organization with no new command for this long drops its tail

// A page of the log as one row: the entries of an organization after a sequence, up to a number
// of them and about a number of bytes (a
// running sum of sizes; the first entry always), concatenated. @ORDER is '' or ' ORDER BY seq':
// without it the aggregates take the index scan's order (an ORDER BY inside each made SQLite
// sort the page four times, doubling the read); splitPage checks that order.
const PAGE_SQL = `SELECT CAST(group_concat(payload, ''@ORDER) AS BLOB) AS data, group_concat(seq, ','@ORDER) AS seqs,
    group_concat(accepted_at, ','@ORDER) AS ats, group_concat(bytes, ','@ORDER) AS lens
  FROM (SELECT seq, accepted_at, bytes, payload, sum(bytes) OVER (ORDER BY seq) AS run
        FROM entries WHERE org = ? AND seq > ? ORDER BY seq LIMIT ?)
  WHERE run - bytes = 0 OR run <= ?`;

class Tail {
  // entries[head..] are the tail; the dead prefix is cut in one splice once it is large, so
  // dropping the oldest entry is O(1) (Array.shift() moves the whole array: 20,000 entries).
  private all: LogEntry[] = [];
  private head = 0;
  bytes = 0;
  lastAppend = Date.now();

  get length(): number {
    return this.all.length - this.head;
  }

  get last(): LogEntry | undefined {
    return this.all[this.all.length - 1];
  }

  private dropFirst(): void {
    this.bytes -= this.all[this.head++].payload.length;
    if (this.head >= 4096 && this.head * 2 >= this.all.length) {
      this.all.splice(0, this.head);
      this.head = 0;
    }
  }

  push(e: LogEntry): void {
    this.lastAppend = Date.now();
    this.all.push(e);
    this.bytes += e.payload.length;
    while (this.length > 1 && (this.bytes > TAIL_MAX_BYTES || this.length > TAIL_MAX_ENTRIES)) this.dropFirst();
  }

  /** Entries after `afterSeq` when the tail reaches back that far, else null. */
  after(afterSeq: number, maxEntries: number, maxBytes: number): LogEntry[] | null {
    const first = this.all[this.head];
    if (!first || first.seq > afterSeq + 1) return null;
    let i = this.head + afterSeq + 1 - first.seq;
    const out: LogEntry[] = [];
    let bytes = 0;
    for (; i < this.all.length && out.length < maxEntries; i++) {
      const e = this.all[i];
      if (out.length > 0 && bytes + e.payload.length > maxBytes) break;
      out.push(e);
      bytes += e.payload.length;
    }
    return out;
  }

  dropUpTo(seq: number): void {
    while (this.length > 0 && this.all[this.head].seq <= seq) this.dropFirst();
  }
}

/** The SQLite log (the default), which also keeps what is local to this process whatever holds
 *  the entries: the backends it runs and the keys that sign their replay cursors. */
export class ReplayLog implements CacheLog {
  readonly kind = 'sqlite' as const;
  private readonly appendListeners: Array<(org: string, lastSeq: number) => void> = [];
  private readonly db: Database.Database;
  private readonly orgs = new Map<string, OrgLogState>();
  private readonly tails = new Map<string, Tail>();
  private readonly streamClocks = new Map<string, StreamClock>(); // committed, per organization
  private readonly checkpointer: Worker | null;
  private readonly stmts;

  constructor(file: string, durability: 'process' | 'machine' = 'process') {
    fs.mkdirSync(path.dirname(file), {recursive: true});
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('secure_delete = ON'); // a secret written by an earlier version is zeroed once replaced
    this.db.pragma(`synchronous = ${durability === 'machine' ? 'FULL' : 'NORMAL'}`);
    this.checkpointer = startCheckpointer(file, () => {
      // Without the worker, checkpoint here as SQLite does by default.
      if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
    });
    if (this.checkpointer) this.db.pragma('wal_autocheckpoint = 0');
    this.db.exec(SCHEMA);
    // Logs made before the stream clock (XADD '*' IDs chosen at commit) get its columns.
    const orgColumns = (this.db.prepare('PRAGMA table_info(orgs)').all() as Array<{name: string}>).map((c) => c.name);
    if (!orgColumns.includes('stream_ms')) {
      this.db.exec('ALTER TABLE orgs ADD COLUMN stream_ms INTEGER NOT NULL DEFAULT 0; ALTER TABLE orgs ADD COLUMN stream_seq INTEGER NOT NULL DEFAULT 0');
    }
    this.stmts = {
      insert: this.db.prepare(
        'INSERT INTO entries (org, seq, accepted_at, region, name, bytes, payload) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      putStreamClock: this.db.prepare('UPDATE orgs SET stream_ms = ?, stream_seq = ? WHERE org = ?'),
      upsertOrg: this.db.prepare(
        `INSERT INTO orgs (org, last_seq, first_seq, bytes, entries, trimmed) VALUES (@org, @lastSeq, @firstSeq, @bytes, @entries, @trimmed)
         ON CONFLICT(org) DO UPDATE SET last_seq = @lastSeq, first_seq = @firstSeq, bytes = @bytes, entries = @entries, trimmed = @trimmed`,
      ),
      // A page in one statement, as one row of concatenations (see read()).
      page: this.db.prepare(PAGE_SQL.replace(/@ORDER/g, '')),
      pageSorted: this.db.prepare(PAGE_SQL.replace(/@ORDER/g, ' ORDER BY seq')),
      acceptedAfter: this.db.prepare('SELECT accepted_at FROM entries WHERE org = ? AND seq > ? ORDER BY seq LIMIT 1'),
      oldest: this.db.prepare('SELECT seq, accepted_at, bytes FROM entries WHERE org = ? ORDER BY seq'),
      deleteUpTo: this.db.prepare('DELETE FROM entries WHERE org = ? AND seq <= ?'),
      loadOrgs: this.db.prepare('SELECT org, last_seq, first_seq, bytes, entries, trimmed, stream_ms, stream_seq FROM orgs'),
      getRegion: this.db.prepare('SELECT high_water, dropped, replay_errors, last_error FROM regions WHERE org = ? AND region = ?'),
      putRegion: this.db.prepare(
        `INSERT INTO regions (org, region, high_water, dropped, replay_errors, last_error) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(org, region) DO UPDATE SET high_water = excluded.high_water, dropped = excluded.dropped,
           replay_errors = excluded.replay_errors, last_error = excluded.last_error`,
      ),
      backends: this.db.prepare('SELECT org, region, port, secret, pid FROM backends'),
      putBackend: this.db.prepare(
        `INSERT INTO backends (org, region, port, secret, pid) VALUES (@org, @region, @port, @secret, @pid)
         ON CONFLICT(org, region) DO UPDATE SET port = @port, secret = @secret, pid = @pid`,
      ),
      deleteBackend: this.db.prepare('DELETE FROM backends WHERE org = ? AND region = ?'),
    };
    this.appendInTx = this.db.transaction(this.appendTx);
    for (const r of this.stmts.loadOrgs.all() as Array<Record<string, number | string>>) {
      this.orgs.set(String(r.org), {
        lastSeq: Number(r.last_seq),
        firstSeq: Number(r.first_seq),
        bytes: Number(r.bytes),
        entries: Number(r.entries),
        trimmed: Number(r.trimmed),
      });
      this.streamClocks.set(String(r.org), {ms: Number(r.stream_ms), seq: Number(r.stream_seq)});
    }
  }

  /** A random key kept with the log, e.g. to sign the replay cursors stored in the backends. */
  secret(name: string): string {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(name) as {value: string} | undefined;
    if (row) return row.value;
    const value = randomBytes(32).toString('hex');
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(name, value);
    return value;
  }

  state(org: string): OrgLogState {
    return orgStateIn(this.orgs, org);
  }

  async refresh(org: string): Promise<OrgLogState> {
    return this.state(org); // this process is the only writer
  }

  knownOrgs(): string[] {
    return [...this.orgs.keys()];
  }

  // One transaction for every append of a tick: with one commit per command, a burst of
  // database-1 writes held the event loop (better-sqlite3 is synchronous) and starved the
  // appliers that share it. Sequences (and XADD '*' IDs) are assigned here, in arrival order;
  // the stream clocks are kept in memory only once the transaction has committed.
  private readonly appendTx = (batch: PendingAppend[]): Committed => {
    const running = new Map<string, OrgLogState>();
    const clocks = new Map<string, StreamClock>();
    const payloads: Buffer[] = [];
    const seqs = batch.map((p) => {
      let s = running.get(p.org);
      if (!s) running.set(p.org, (s = {...this.state(p.org)}));
      let payload: Buffer;
      if (Buffer.isBuffer(p.payload)) payload = p.payload;
      else {
        const settled = settlePayload(p.payload, clocks.get(p.org) ?? this.streamClock(p.org), p.acceptedAt);
        clocks.set(p.org, settled.clock);
        payload = settled.payload;
      }
      payloads.push(payload);
      s.lastSeq += 1;
      s.bytes += payload.length;
      s.entries += 1;
      this.stmts.insert.run(p.org, s.lastSeq, p.acceptedAt, p.region, p.name, payload.length, payload);
      return s.lastSeq;
    });
    for (const [org, s] of running) this.stmts.upsertOrg.run({org, ...s});
    for (const [org, c] of clocks) this.stmts.putStreamClock.run(c.ms, c.seq, org);
    return {seqs, payloads, clocks};
  };

  private streamClock(org: string): StreamClock {
    return this.streamClocks.get(org) ?? {ms: 0, seq: 0};
  }

  // Made once: better-sqlite3 builds a new wrapper per transaction() call (10% of append's CPU).
  private readonly appendInTx: (batch: PendingAppend[]) => Committed;
  private pending: PendingAppend[] = [];

  /** Appends one entry and resolves with its sequence once it is committed (appends of one
   *  tick share the commit). */
  append(org: string, acceptedAt: number, region: string, name: string, payload: AppendPayload): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({org, acceptedAt, region, name, payload, resolve, reject});
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let committed: Committed;
    try {
      if (!this.db.open) throw new Error('the log is closed');
      committed = this.appendInTx(batch);
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
      return;
    }
    const {seqs, payloads} = committed;
    for (const [org, c] of committed.clocks) this.streamClocks.set(org, c);
    const last = new Map<string, number>();
    batch.forEach((p, i) => {
      const seq = seqs[i];
      let tail = this.tails.get(p.org);
      // Only contiguous runs: after a restart the tail starts at the first entry appended then.
      if (!tail || (tail.length > 0 && tail.last!.seq !== seq - 1)) {
        tail = new Tail();
        this.tails.set(p.org, tail);
      }
      tail.push({seq, acceptedAt: p.acceptedAt, payload: payloads[i]});
      const s = this.state(p.org);
      s.lastSeq = seq;
      s.bytes += payloads[i].length;
      s.entries += 1;
      last.set(p.org, seq);
    });
    batch.forEach((p, i) => p.resolve(seqs[i]));
    for (const [org, seq] of last) for (const l of this.appendListeners) l(org, seq);
  }

  onAppend(listener: (org: string, lastSeq: number) => void): void {
    this.appendListeners.push(listener);
  }

  async read(org: string, afterSeq: number, maxEntries: number, maxBytes: number): Promise<LogEntry[]> {
    const fromTail = this.tails.get(org)?.after(afterSeq, maxEntries, maxBytes);
    if (fromTail) return fromTail;
    // One Buffer and three short strings for the page instead of a row object and a Buffer per
    // entry: at 10,000 small entries a page that was half of the catch-up's time.
    type Row = {data: Buffer | null; seqs: string; ats: string; lens: string};
    const row = this.stmts.page.get(org, afterSeq, maxEntries, maxBytes) as Row;
    if (row.data === null) return [];
    const page = splitPage(row.data, row.seqs, row.ats, row.lens);
    if (page !== null) return page;
    const sorted = this.stmts.pageSorted.get(org, afterSeq, maxEntries, maxBytes) as Row;
    return splitPage(sorted.data!, sorted.seqs, sorted.ats, sorted.lens)!;
  }

  async acceptedAfter(org: string, afterSeq: number): Promise<number | null> {
    const row = this.stmts.acceptedAfter.get(org, afterSeq) as {accepted_at: number} | undefined;
    return row ? row.accepted_at : null;
  }

  async trim(org: string, now: number, maxAgeMs: number, maxBytes: number): Promise<number> {
    const s = this.state(org);
    if (s.entries === 0) return 0;
    let cut = 0;
    let bytes = s.bytes;
    let removed = 0;
    for (const row of this.stmts.oldest.iterate(org) as IterableIterator<{seq: number; accepted_at: number; bytes: number}>) {
      if (bytes <= maxBytes && row.accepted_at >= now - maxAgeMs) break;
      cut = row.seq;
      bytes -= row.bytes;
      removed++;
    }
    if (removed === 0) return 0;
    const next = {...s, firstSeq: cut + 1, bytes, entries: s.entries - removed, trimmed: s.trimmed + removed};
    this.db.transaction(() => {
      this.stmts.deleteUpTo.run(org, cut);
      this.stmts.upsertOrg.run({org, ...next});
    })();
    this.tails.get(org)?.dropUpTo(cut);
    Object.assign(s, next);
    return removed;
  }

  /** Frees the in-memory tail of organizations that have been quiet for a while (their appliers
   *  have long read it; a region that comes later reads SQLite). */
  async housekeeping(now: number): Promise<void> {
    for (const [org, tail] of this.tails) if (now - tail.lastAppend > TAIL_IDLE_MS) this.tails.delete(org);
  }

  async dropOrg(org: string): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM entries WHERE org = ?').run(org);
      this.db.prepare('DELETE FROM orgs WHERE org = ?').run(org);
      this.db.prepare('DELETE FROM regions WHERE org = ?').run(org);
      this.db.prepare('DELETE FROM backends WHERE org = ?').run(org);
    })();
    this.orgs.delete(org);
    this.tails.delete(org);
    this.streamClocks.delete(org);
  }

  async regionCounters(org: string, region: string): Promise<RegionCounters> {
    const row = this.stmts.getRegion.get(org, region) as
      | {high_water: number; dropped: number; replay_errors: number; last_error: string | null}
      | undefined;
    return row
      ? {highWater: row.high_water, dropped: row.dropped, replayErrors: row.replay_errors, lastError: row.last_error}
      : {highWater: 0, dropped: 0, replayErrors: 0, lastError: null};
  }

  async saveRegionCounters(org: string, region: string, c: RegionCounters): Promise<void> {
    this.stmts.putRegion.run(org, region, c.highWater, c.dropped, c.replayErrors, c.lastError);
  }

  backends(): BackendRecord[] {
    return this.stmts.backends.all() as BackendRecord[];
  }

  saveBackend(b: BackendRecord): void {
    this.stmts.putBackend.run(b);
  }

  deleteBackend(org: string, region: string): void {
    this.stmts.deleteBackend.run(org, region);
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.flush(); // appends of this tick still commit
    void this.checkpointer?.terminate();
    this.db.close();
  }
}
