// CONFIG as a tenant sees it: SET of notify-keyspace-events only, GET of a documented safe set
// (docs/command-surface.md). The gateway rewrites CONFIG GET to name only the safe parameters
// that match the client's patterns, so Redis's own reply (RESP2 or RESP3) is passed through.
import {encodeCommand} from './resp';

/** Parameters CONFIG SET may change. */
export const CONFIG_SETTABLE: ReadonlySet<string> = new Set(['notify-keyspace-events']);

/** Redis 7.0's notify-keyspace-events flag letters (keyspaceEventsStringToFlags): a value made
 *  of them is accepted by Redis, and so safe to render into redis.conf for the next start. */
export const NOTIFY_FLAGS = /^[KEg$lshzxetmdnA]*$/;

/** Parameters CONFIG GET shows: behaviour a client may depend on, nothing of the platform's
 *  files, ports or processes. */
export const CONFIG_READABLE: readonly string[] = [
  'notify-keyspace-events', 'maxmemory', 'maxmemory-policy', 'maxmemory-samples', 'databases',
  'save', 'appendonly', 'appendfsync', 'timeout', 'proto-max-bulk-len', 'busy-reply-threshold',
  'lua-time-limit', 'lfu-log-factor', 'lfu-decay-time', 'hash-max-listpack-entries',
  'hash-max-listpack-value', 'list-max-listpack-size', 'set-max-intset-entries',
  'zset-max-listpack-entries', 'zset-max-listpack-value', 'stream-node-max-bytes',
  'stream-node-max-entries', 'slowlog-log-slower-than', 'slowlog-max-len',
];

/** Redis's glob matching (util.c stringmatchlen) as CONFIG GET uses it: case-insensitive,
 *  `*`, `?`, `[...]` with ranges and `^`, and `\` escapes. */
export function globMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const s = text.toLowerCase();
  const m = (pi: number, si: number): boolean => {
    while (pi < p.length) {
      const c = p[pi];
      if (c === '*') {
        while (p[pi + 1] === '*') pi++;
        if (pi + 1 === p.length) return true;
        for (let k = si; k <= s.length; k++) if (m(pi + 1, k)) return true;
        return false;
      }
      if (si >= s.length) return false;
      if (c === '?') {
        pi++;
        si++;
        continue;
      }
      if (c === '[') {
        let q = pi + 1;
        const not = p[q] === '^';
        if (not) q++;
        let hit = false;
        while (q < p.length && p[q] !== ']') {
          if (p[q] === '\\' && q + 1 < p.length) {
            q++;
            if (p[q] === s[si]) hit = true;
          } else if (p[q + 1] === '-' && q + 2 < p.length && p[q + 2] !== ']') {
            let lo = p[q];
            let hi = p[q + 2];
            if (lo > hi) [lo, hi] = [hi, lo];
            if (s[si] >= lo && s[si] <= hi) hit = true;
            q += 2;
          } else if (p[q] === s[si]) hit = true;
          q++;
        }
        if (hit === not) return false;
        pi = q + 1;
        si++;
        continue;
      }
      const lit = c === '\\' && pi + 1 < p.length ? p[++pi] : c;
      if (lit !== s[si]) return false;
      pi++;
      si++;
    }
    return si === s.length;
  };
  return m(0, 0);
}

/** The CONFIG GET to send for the client's patterns: only the safe parameters they match
 *  (a name Redis knows no parameter by when none does, so the reply is Redis's empty one). */
export function rewriteConfigGet(patterns: string[]): Buffer {
  const names = CONFIG_READABLE.filter((n) => patterns.some((p) => globMatch(p, n)));
  return encodeCommand(['CONFIG', 'GET', ...(names.length > 0 ? names : ['redfly-none'])]);
}
