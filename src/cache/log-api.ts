// What the regional cache's service and appliers need from database 1's log, whatever holds it:
// SQLite in this process's state folder (log.ts, the default) or PostgreSQL shared by every
// region host (log-postgres.ts, when REDFLY_DATABASE_URL is set). Both keep one gap-free
// sequence per organization in commit order, so an applier that reads "seq > cursor" never
// skips an entry committed later with a smaller sequence. Both also keep a stream clock per
// organization, updated in that same transaction, that turns an XADD's '*' into its ID
// (stream-ids.ts): IDs increase in log order whichever host or clock accepted the command.
import type {AppendPayload} from './stream-ids';

export interface LogEntry {
  seq: number;
  acceptedAt: number; // ms since the epoch
  payload: Buffer; // RESP encoding of the deterministic command
}

export interface OrgLogState {
  lastSeq: number; // highest sequence ever assigned (as far as this process knows)
  firstSeq: number; // lowest sequence still retained (lastSeq + 1 when empty)
  bytes: number; // payload bytes retained
  entries: number;
  trimmed: number; // entries removed by the age or size bound
}

export interface RegionCounters {
  highWater: number; // highest sequence this region has ever applied (for counting drops)
  dropped: number;
  replayErrors: number;
  lastError: string | null;
}

/** Database 1's durable, ordered, per-organization log. */
/** An append waiting for its turn's commit (both logs batch the appends of one tick into one
 *  transaction): `resolve` gets its sequence once committed, `reject` the commit's error. */
export interface PendingAppend {
  org: string;
  acceptedAt: number;
  region: string;
  name: string;
  payload: AppendPayload;
  resolve: (seq: number) => void;
  reject: (err: Error) => void;
}

export interface CacheLog {
  /** Where the entries live, for status and benchmarks. */
  readonly kind: 'sqlite' | 'postgres';
  /** The organization's figures as this process last saw them (no I/O). With a shared log,
   *  other hosts' appends show up through notifications, reads and housekeeping. */
  state(org: string): OrgLogState;
  /** The organization's figures read from the log itself (what state() then returns). */
  refresh(org: string): Promise<OrgLogState>;
  knownOrgs(): string[];
  /** Appends one entry and resolves with its sequence number once it is durable (the +OK
   *  may be sent then). Appends of one tick may share one transaction. An XADD (`XaddArgs`)
   *  gets its ID there: `nextStreamId(organization's stream clock, acceptedAt)` for '*'. */
  append(org: string, acceptedAt: number, region: string, name: string, payload: AppendPayload): Promise<number>;
  /** Entries after `afterSeq`, in order, at most `maxEntries` and about `maxBytes` (always at
   *  least one entry when there is one, however large). */
  read(org: string, afterSeq: number, maxEntries: number, maxBytes: number): Promise<LogEntry[]>;
  /** When the oldest entry after `afterSeq` was accepted, or null when there is none. */
  acceptedAfter(org: string, afterSeq: number): Promise<number | null>;
  /** Removes the oldest entries past the age or size bound; resolves with how many. */
  trim(org: string, now: number, maxAgeMs: number, maxBytes: number): Promise<number>;
  /** Periodic upkeep (about once a second): free idle memory, refresh shared figures. */
  housekeeping(now: number): Promise<void>;
  /** Forgets an organization entirely (it was deleted). */
  dropOrg(org: string): Promise<void>;
  regionCounters(org: string, region: string): Promise<RegionCounters>;
  saveRegionCounters(org: string, region: string, c: RegionCounters): Promise<void>;
  /** Called when entries are appended by any process sharing the log (this one included),
   *  with the organization's new last sequence. */
  onAppend(listener: (org: string, lastSeq: number) => void): void;
  close(): Promise<void>;
}

/** The entries of one page that a log read as one row of concatenations (both logs do): `data`
 *  holds the payloads back to back, the others are comma-separated sequences, acceptance times
 *  and payload sizes, all in one order. Returns null when that order is not ascending sequence
 *  order (the logs then read the page again with explicitly ordered aggregates); throws when the
 *  sizes do not add up to `data` (a bug, not bad input). */
export function splitPage(data: Buffer, seqs: string, ats: string, lens: string): LogEntry[] | null {
  const s = seqs.split(',');
  const a = ats.split(',');
  const l = lens.split(',');
  const out: LogEntry[] = new Array(s.length);
  let pos = 0;
  for (let i = 0; i < s.length; i++) {
    const end = pos + Number(l[i]);
    out[i] = {seq: Number(s[i]), acceptedAt: Number(a[i]), payload: data.subarray(pos, end)};
    pos = end;
  }
  if (pos !== data.length) throw new Error(`log page of ${data.length} bytes holds ${pos} bytes of entries`);
  for (let i = 1; i < out.length; i++) if (out[i].seq <= out[i - 1].seq) return null;
  return out;
}

/** The figures kept for `org` in `orgs`, made (empty: nothing logged yet) on first use. Both
 *  logs answer CacheLog.state() with it. */
export function orgStateIn(orgs: Map<string, OrgLogState>, org: string): OrgLogState {
  let s = orgs.get(org);
  if (!s) {
    s = {lastSeq: 0, firstSeq: 1, bytes: 0, entries: 0, trimmed: 0};
    orgs.set(org, s);
  }
  return s;
}
