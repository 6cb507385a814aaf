// Redis's own command table (the reply of COMMAND), fetched from a backend so that the platform
// knows commands, arities and flags exactly as the installed redis-server version does. Callers
// build their own views on it (the gateway's routing, the cache's checks).
import {asText, RedisConnection, Reply} from './client';

export interface CommandEntry {
  name: string; // lowercase, "xgroup|create" for a subcommand
  arity: number; // Redis convention: n = exactly n words, -n = at least n
  flags: Set<string>; // lowercase
  categories: Set<string>; // ACL categories, lowercase with '@' ("@scripting")
  firstKey: number;
  lastKey: number;
  keyStep: number;
  tips: string[]; // lowercase
  subcommands: Map<string, CommandEntry>; // key: lowercase subcommand name ("create")
}

function parseEntry(entry: Reply): CommandEntry | null {
  if (!Array.isArray(entry) || entry.length < 3) return null;
  const list = (r: Reply | undefined): string[] => (Array.isArray(r) ? r.map((x) => asText(x).toLowerCase()) : []);
  const subcommands = new Map<string, CommandEntry>();
  if (Array.isArray(entry[9])) {
    for (const sub of entry[9]) {
      const spec = parseEntry(sub);
      if (spec) subcommands.set(spec.name.slice(spec.name.indexOf('|') + 1), spec);
    }
  }
  return {
    name: asText(entry[0]).toLowerCase(),
    arity: Number(entry[1]),
    flags: new Set(list(entry[2])),
    categories: new Set(list(entry[6])),
    firstKey: Number(entry[3] ?? 0),
    lastKey: Number(entry[4] ?? 0),
    keyStep: Number(entry[5] ?? 0),
    tips: list(entry[7]),
    subcommands,
  };
}

/** Top-level commands by lowercase name. */
export function parseCommandTable(reply: Reply): Map<string, CommandEntry> {
  const map = new Map<string, CommandEntry>();
  if (Array.isArray(reply)) {
    for (const entry of reply) {
      const spec = parseEntry(entry);
      if (spec) map.set(spec.name, spec);
    }
  }
  if (map.size === 0) throw new Error('COMMAND returned no commands');
  return map;
}

export async function fetchCommandTable(conn: RedisConnection): Promise<Map<string, CommandEntry>> {
  return parseCommandTable(await conn.call('COMMAND'));
}

/** Redis's check: arity > 0 means exactly, < 0 means at least. */
export function arityOk(arity: number, words: number): boolean {
  return arity >= 0 ? words === arity : words >= -arity;
}
