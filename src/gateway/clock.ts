// A clock for per-command time stamps that only need Redis's own precision: Redis stamps a
// client's last interaction with the time its event loop cached (server.unixtime, refreshed
// about every 100 ms at the default hz 10), not a fresh clock read per command. Reading Date.now()
// for each client read cost the gateway about a microsecond per command under redis-benchmark -c 1.

const RESOLUTION_MS = 100;

let now = 0;
let timer: NodeJS.Timeout | null = null;

/** Milliseconds since the epoch, at most about 100 ms old. The first call starts an unref'd
 *  interval (it keeps no process alive). */
export function coarseNow(): number {
  if (timer === null) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
    }, RESOLUTION_MS);
    timer.unref();
  }
  return now;
}
