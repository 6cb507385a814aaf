// Readiness checks, polled every few milliseconds so ensure() resolves as soon as Redis is ready
// rather than on some coarse timer.
import {ProcessStartError} from './errors';
import {INTERNAL_USER} from './config';
import {asText, encodeCommand, RedisConnection, ReplyError} from '../redis/client';
import {parseInfo} from '../redis/info';

export const POLL_MS = 4;

export interface WaitOptions {
  deadline: number; // Date.now() value
  /** An error when waiting is pointless (the process exited or is being stopped), else null. */
  abort: () => Error | null;
  describe: string; // "primary in mad (port 21000)", for messages
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function check(opts: WaitOptions): void {
  const err = opts.abort();
  if (err) throw err;
  if (Date.now() > opts.deadline) throw new ProcessStartError(`${opts.describe} did not become ready in time`);
}

/** The call's reply, or abort()'s error as soon as it has one (the process exited while
 *  something else that holds its port leaves the call unanswered). */
function guarded<T>(call: Promise<T>, opts: WaitOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setInterval(() => {
      const err = opts.abort();
      if (err) {
        clearInterval(timer);
        reject(err);
      }
    }, POLL_MS);
    call.then(
      (v) => (clearInterval(timer), resolve(v)),
      (e) => (clearInterval(timer), reject(e)),
    );
  });
}

/**
 * Waits until the process answers PING as the internal user, and checks that the answering
 * server is really our child (its process_id), not some other server that owns the port.
 * Returns the authenticated connection for the caller's next commands.
 */
export async function waitForPing(port: number, secret: string, pid: number, opts: WaitOptions): Promise<RedisConnection> {
  for (;;) {
    check(opts);
    let client: RedisConnection;
    try {
      // No short call timeout: guarded() stops waiting as soon as our child exits, and a
      // loaded machine may take a while to answer.
      client = await RedisConnection.connect(port, {connectTimeoutMs: 1000, callTimeoutMs: 10_000});
    } catch {
      await sleep(POLL_MS);
      continue;
    }
    try {
      // One write and one round trip for a process that already serves (an adopted one, or a
      // start whose AOF is small); a process still loading its data answers PING with LOADING.
      const [auth, ping, infoReply] = await guarded(
        client.send(Buffer.concat([['AUTH', INTERNAL_USER, secret], ['PING'], ['INFO', 'server']].map(encodeCommand)), 3),
        opts,
      );
      if (auth instanceof ReplyError) throw auth;
      let infoText = ping instanceof ReplyError ? null : asText(infoReply);
      if (ping instanceof ReplyError && !/^LOADING/.test(ping.message)) throw ping;
      while (infoText === null) {
        check(opts);
        await sleep(POLL_MS * 5);
        try {
          await guarded(client.call('PING'), opts);
          infoText = await guarded(client.text('INFO', 'server'), opts);
        } catch (err) {
          if (!/^LOADING/.test((err as Error).message)) throw err;
        }
      }
      const info = parseInfo(infoText);
      if (Number(info.process_id) !== pid) {
        client.close();
        throw new ProcessStartError(`port ${port} is served by another process (pid ${info.process_id})`, true);
      }
      return client;
    } catch (err) {
      client.close();
      if (err instanceof ProcessStartError) throw err;
      check(opts);
      // The server went away between connect and reply (it is exiting): poll again and let
      // abort() report the exit.
      await sleep(POLL_MS);
    }
  }
}

/** Waits until a replica's link to its primary is up and no sync is in progress. */
export async function waitForSync(client: RedisConnection, opts: WaitOptions): Promise<void> {
  for (;;) {
    check(opts);
    let info: Record<string, string>;
    try {
      info = parseInfo(await guarded(client.text('INFO', 'replication'), opts));
    } catch (err) {
      check(opts);
      throw err;
    }
    if (info.role === 'slave' && info.master_link_status === 'up' && info.master_sync_in_progress === '0') return;
    await sleep(POLL_MS);
  }
}
