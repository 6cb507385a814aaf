// Applies an organization's log, in order, to database 0 of one region's backend. Each batch of
// entries runs in one MULTI/EXEC together with the update of the region's cursor (kept in the
// backend's own database 1), so a batch and its cursor are applied together or not at all:
// delivery is exactly-once per region however the applier, the server or the backend stop. A
// backend that comes back empty (it is volatile) has no cursor and replays the retained backlog.
import {createHmac} from 'node:crypto';
import {Backend} from './backend';
import type {CacheLog, LogEntry, RegionCounters} from './log-api';
import {asText, encodeCommand, RedisConnection, Reply, ReplyError} from '../redis/client';
import {parseInfo} from '../redis/info';

export const CURSOR_KEY = 'redfly:replay:cursor';
const APPLIER_NAME = 'redfly-applier';

export interface ApplierOptions {
  batchEntries: number;
  batchBytes: number;
}

export type ApplierState = 'connecting' | 'catching-up' | 'live' | 'down' | 'stopped';

export interface AppliedEvent {
  org: string;
  region: string;
  seq: number; // every entry up to this one is now applied in the region
  entries: Array<{seq: number; acceptedAt: number}>;
  appliedAt: number;
}

const MULTI = encodeCommand(['MULTI']);
const EXEC = encodeCommand(['EXEC']);
const SELECT_0 = encodeCommand(['SELECT', '0']);
const SELECT_1 = encodeCommand(['SELECT', '1']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RegionApplier {
  state: ApplierState = 'connecting';
  cursor = 0; // last sequence applied in this region (as recorded in the backend)
  private conn: RedisConnection | null = null;
  private runId: string | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private readonly waiters: Array<{seq: number; resolve: () => void}> = [];
  /** Loaded from the log when the applier starts (zeros until then). */
  readonly counters: RegionCounters = {highWater: 0, dropped: 0, replayErrors: 0, lastError: null};
  private countersDirty = false;
  private countersLoaded = false;

  /** `cursorKey` signs the cursor kept in the backend (a secret of this host's state). */
  constructor(
    readonly org: string,
    readonly region: string,
    private readonly backend: Backend,
    private readonly log: CacheLog,
    private readonly cursorKey: string,
    private readonly opts: ApplierOptions,
    private readonly onApplied: (e: AppliedEvent) => void,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** New entries were appended. */
  notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Resolves once every entry up to `seq` is applied here (or the applier stops). */
  waitFor(seq: number): Promise<void> {
    if (this.cursor >= seq || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({seq, resolve}));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.state = 'stopped';
    this.notify();
    this.conn?.close();
    await this.loop;
    await this.flushCounters();
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  async flushCounters(): Promise<void> {
    if (!this.countersDirty || !this.countersLoaded) return;
    this.countersDirty = false;
    await this.log.saveRegionCounters(this.org, this.region, {...this.counters}).catch(() => (this.countersDirty = true));
  }

  private async run(): Promise<void> {
    let backoff = 20;
    while (!this.stopped) {
      try {
        if (!this.countersLoaded) {
          Object.assign(this.counters, await this.log.regionCounters(this.org, this.region));
          this.countersLoaded = true;
        }
        await this.connect();
        backoff = 20;
        await this.applyLoop();
      } catch (err) {
        if (this.stopped) break;
        this.state = 'down';
        this.conn?.close();
        this.conn = null;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 1000);
      }
    }
  }

  private async connect(): Promise<void> {
    this.state = 'connecting';
    const conn = await this.backend.connect((c) => (this.conn = c));
    if (this.stopped) throw new Error('stopped');
    // An idle applier sends nothing: without this it would learn that its backend died (and
    // came back empty) only with the next database-1 write, and leave the region empty until then.
    conn.onClose(() => this.notify());
    const info = parseInfo(await conn.text('INFO', 'server'));
    const runId = info.run_id ?? null;
    await this.fenceOldAppliers(conn);
    await conn.call('SELECT', '1');
    const stored = await conn.call('GET', CURSOR_KEY);
    await conn.call('SELECT', '0');
    const recorded = stored === null ? null : this.verifyCursor(asText(stored));
    if (recorded !== null) {
      this.cursor = recorded;
    } else if (runId !== null && runId === this.runId) {
      // Same process, but its cursor is gone: someone flushed it. Keep going from where we were
      // rather than replaying the backlog on top of data that already has it.
    } else {
      // A new, empty process: everything retained is to be applied.
      this.cursor = 0;
    }
    this.runId = runId;
    // Fresh figures: with a shared log another host may have appended since this one looked.
    const last = (await this.log.refresh(this.org)).lastSeq;
    if (this.cursor > last) this.cursor = last; // the log was reset under an old backend
  }

  /**
   * A batch written by an earlier applier of this region (before a restart of the server, or
   * before this connection was re-established) may still sit unread in the backend's socket
   * buffer, e.g. while the process is stopped. Closing those connections discards it, so the
   * cursor read next is final and nothing is applied twice.
   */
  private async fenceOldAppliers(conn: RedisConnection): Promise<void> {
    await conn.call('CLIENT', 'SETNAME', APPLIER_NAME);
    const me = Number(await conn.call('CLIENT', 'ID'));
    const list = await conn.text('CLIENT', 'LIST', 'TYPE', 'normal');
    for (const line of list.split('\n')) {
      const id = /(?:^|\s)id=(\d+)/.exec(line);
      if (id && Number(id[1]) !== me && new RegExp(`\\sname=${APPLIER_NAME}(\\s|$)`).test(line)) {
        await conn.call('CLIENT', 'KILL', 'ID', id[1]).catch(() => undefined);
      }
    }
  }

  private async applyLoop(): Promise<void> {
    // While catching up, the next page is read from the log while Redis executes this one: the
    // batch is written to the socket first, then the read starts (SQLite's read runs on this
    // thread, so reading first would leave Redis idle meanwhile), then the replies are awaited.
    let prefetch: {after: number; page: Promise<LogEntry[]>} | null = null;
    for (;;) {
      if (this.stopped) return;
      if (this.conn === null || this.conn.closed) throw new Error('backend connection closed');
      const s = this.log.state(this.org);
      if (this.cursor + 1 < s.firstSeq) this.skipTrimmed(s.firstSeq - 1);
      const batch: LogEntry[] = await (prefetch !== null && prefetch.after === this.cursor
        ? prefetch.page
        : this.log.read(this.org, this.cursor, this.opts.batchEntries, this.opts.batchBytes));
      prefetch = null;
      if (this.stopped) return;
      // Trimmed (by another host sharing the log) between the check above and the read.
      if (batch.length > 0 && batch[0].seq > this.cursor + 1) this.skipTrimmed(batch[0].seq - 1);
      if (batch.length === 0) {
        this.state = 'live';
        this.release();
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          // A safety net for a missed notification and for age-based trimming.
          setTimeout(resolve, 1000).unref();
        });
        continue;
      }
      this.state = this.log.state(this.org).lastSeq - this.cursor > batch.length ? 'catching-up' : 'live';
      const sent = this.sendBatch(batch);
      if (this.state === 'catching-up') {
        const after: number = batch[batch.length - 1].seq;
        const page = this.log.read(this.org, after, this.opts.batchEntries, this.opts.batchBytes);
        page.catch(() => undefined); // read again (and fail there) when it is not used
        prefetch = {after, page};
      }
      await this.finishBatch(batch, await sent);
    }
  }

  private skipTrimmed(upTo: number): void {
    const from = Math.max(this.cursor, this.counters.highWater);
    if (upTo > from) {
      this.counters.dropped += upTo - from;
      this.countersDirty = true;
    }
    this.cursor = upTo;
  }

  // The cursor is signed: a client could write into the backend's database 1 (COPY ... DB 1),
  // and a forged or stale cursor would make the region skip or repeat commands. An unsigned
  // value counts as no cursor.
  private signCursor(seq: number): string {
    const mac = createHmac('sha256', this.cursorKey).update(`${this.org}\u0000${this.region}\u0000${seq}`).digest('hex');
    return `${seq}:${mac.slice(0, 32)}`;
  }

  private verifyCursor(text: string): number | null {
    const seq = Number(text.slice(0, text.indexOf(':')));
    return Number.isSafeInteger(seq) && seq >= 0 && this.signCursor(seq) === text ? seq : null;
  }

  private cursorUpdate(seq: number): Buffer {
    return Buffer.concat([SELECT_1, encodeCommand(['SET', CURSOR_KEY, this.signCursor(seq)]), SELECT_0]);
  }

  /** Writes the batch and its cursor update as one MULTI/EXEC; resolves with the replies. */
  private sendBatch(batch: LogEntry[]): Promise<Reply[]> {
    const last = batch[batch.length - 1].seq;
    const bytes = Buffer.concat([MULTI, ...batch.map((e) => e.payload), this.cursorUpdate(last), EXEC]);
    return this.conn!.send(bytes, batch.length + 5);
  }

  private async finishBatch(batch: LogEntry[], replies: Reply[]): Promise<void> {
    const conn = this.conn!;
    const last = batch[batch.length - 1].seq;
    const queued = replies.slice(1, 1 + batch.length);
    const exec = replies[replies.length - 1];
    if (queued.some((r) => r instanceof ReplyError) || !Array.isArray(exec)) {
      // A command was refused at queue time (OOM for a value larger than the whole cache, say),
      // which aborted the batch: apply one by one so only the refused entry is lost.
      for (const entry of batch) await this.applyOne(conn, entry);
    } else {
      this.recordErrors(exec.slice(0, batch.length));
    }
    this.advance(batch, last);
  }

  private async applyOne(conn: RedisConnection, entry: LogEntry): Promise<void> {
    const bytes = Buffer.concat([MULTI, entry.payload, this.cursorUpdate(entry.seq), EXEC]);
    const replies = await conn.send(bytes, 6);
    const exec = replies[5];
    if (Array.isArray(exec)) {
      this.recordErrors([exec[0]]);
      return;
    }
    this.recordErrors([replies[1] instanceof ReplyError ? replies[1] : exec]);
    await conn.send(this.cursorUpdate(entry.seq), 3);
  }

  private recordErrors(results: Reply[]): void {
    for (const r of results) {
      if (r instanceof ReplyError) {
        this.counters.replayErrors++;
        this.counters.lastError = r.message;
        this.countersDirty = true;
      }
    }
  }

  private advance(batch: LogEntry[], last: number): void {
    this.cursor = last;
    if (last > this.counters.highWater) {
      this.counters.highWater = last;
      this.countersDirty = true;
    }
    this.onApplied({
      org: this.org,
      region: this.region,
      seq: last,
      entries: batch.map((e) => ({seq: e.seq, acceptedAt: e.acceptedAt})),
      appliedAt: Date.now(),
    });
    this.release();
  }

  private release(): void {
    if (this.waiters.length === 0) return;
    const keep: typeof this.waiters = [];
    for (const w of this.waiters) (this.cursor >= w.seq ? w.resolve() : keep.push(w));
    this.waiters.splice(0, this.waiters.length, ...keep);
  }
}
