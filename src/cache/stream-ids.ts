// XADD '*' IDs of database 1, chosen by the log where the order is chosen: inside the append
// transaction, from a per-organization stream clock kept with the log's sequence. Every region
// replays the same explicit ID, and an ID logged later is always larger than one logged
// earlier, whichever host (and host clock) accepted the command.
import {encodeCommand} from '../redis/client';

/** The last stream ID the log handed out (or saw in an explicit XADD ID) for an organization. */
export interface StreamClock {
  ms: number; // milliseconds part
  seq: number; // sequence part
}

/** An XADD whose ID the log settles at commit: `args[idIndex]` is '*' (replaced by the next
 *  ID) or an explicit ID (kept; it only moves the clock forward, so a later '*' is larger). */
export interface XaddArgs {
  args: Buffer[];
  idIndex: number;
}

/** What an append logs: the RESP bytes of a command, or an XADD still to be given its ID. */
export type AppendPayload = Buffer | XaddArgs;

const ID_RE = /^(\d+)(?:-(\d+|\*))?$/;

/**
 * Redis's rule for '*' (t_stream.c, streamNextID): `max(now, last.ms)`, with the sequence part
 * bumped when the millisecond repeats (and the next millisecond once the sequence is exhausted:
 * here at 2^53, JavaScript's exact integers).
 */
export function nextStreamId(last: StreamClock, nowMs: number): StreamClock {
  if (nowMs > last.ms) return {ms: nowMs, seq: 0};
  if (last.seq >= Number.MAX_SAFE_INTEGER) return {ms: last.ms + 1, seq: 0};
  return {ms: last.ms, seq: last.seq + 1};
}

const after = (a: StreamClock, b: StreamClock): boolean => a.ms > b.ms || (a.ms === b.ms && a.seq > b.seq);

/**
 * The bytes to log for `p`, and the organization's stream clock after it. A '*' gets
 * `nextStreamId(clock, acceptedAt)`; an explicit `ms-seq` (or `ms`) ahead of the clock moves it
 * there; `ms-*` (Redis picks the sequence) moves it to the end of that millisecond. IDs beyond
 * 2^53 leave the clock alone (no client clock gets there).
 */
export function settlePayload(p: AppendPayload, clock: StreamClock, acceptedAt: number): {payload: Buffer; clock: StreamClock} {
  if (Buffer.isBuffer(p)) return {payload: p, clock};
  const given = p.args[p.idIndex].toString('latin1');
  if (given === '*') {
    const next = nextStreamId(clock, acceptedAt);
    const args = p.args.slice();
    args[p.idIndex] = Buffer.from(`${next.ms}-${next.seq}`);
    return {payload: encodeCommand(args), clock: next};
  }
  const payload = encodeCommand(p.args);
  const m = ID_RE.exec(given);
  if (!m) return {payload, clock};
  const ms = Number(m[1]);
  const seq = m[2] === '*' ? Number.MAX_SAFE_INTEGER : Number(m[2] ?? 0);
  if (!Number.isSafeInteger(ms) || !Number.isSafeInteger(seq)) return {payload, clock};
  const id = {ms, seq};
  return {payload, clock: after(id, clock) ? id : clock};
}
