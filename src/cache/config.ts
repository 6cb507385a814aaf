// Operator settings of the regional cache from the environment, so a deployment can size it
// without code: the host spreads the result into CacheService.open's config.
import type {CacheConfig} from './types';

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i;
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i;

export function parseSize(text: string): number {
  const m = SIZE_RE.exec(text.trim());
  if (!m) throw new Error(`invalid size "${text}" (examples: 64mb, 1gb, 1048576)`);
  const unit = {b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3}[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Math.round(Number(m[1]) * unit);
}

export function parseDuration(text: string): number {
  const m = DURATION_RE.exec(text.trim());
  if (!m) throw new Error(`invalid duration "${text}" (examples: 500ms, 30s, 10m, 1h)`);
  const unit = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}[(m[2] ?? 'ms').toLowerCase() as 'ms'];
  return Math.round(Number(m[1]) * unit);
}

/**
 * REDFLY_CACHE_MAXMEMORY (per organization and region, e.g. 64mb), REDFLY_CACHE_BACKLOG_MAX_AGE
 * (e.g. 1h), REDFLY_CACHE_BACKLOG_MAX_BYTES (per organization, e.g. 256mb),
 * REDFLY_CACHE_MAX_COMMAND_BYTES, REDFLY_CACHE_DURABILITY (process | machine); REDFLY_DATABASE_URL
 * puts database 1's log in PostgreSQL.
 * Throws with the variable's name when a value cannot be read.
 */
export function cacheConfigFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<CacheConfig> {
  const out: Partial<CacheConfig> = {};
  const read = <T>(name: string, parse: (v: string) => T, set: (v: T) => void) => {
    const v = env[name];
    if (v === undefined || v === '') return;
    try {
      set(parse(v));
    } catch (err) {
      throw new Error(`${name}: ${(err as Error).message}`);
    }
  };
  read('REDFLY_DATABASE_URL', (v) => v, (v) => (out.databaseUrl = v));
  read('REDFLY_CACHE_MAXMEMORY', parseSize, (v) => (out.maxmemoryBytes = v));
  read('REDFLY_CACHE_BACKLOG_MAX_AGE', parseDuration, (v) => (out.backlogMaxAgeMs = v));
  read('REDFLY_CACHE_BACKLOG_MAX_BYTES', parseSize, (v) => (out.backlogMaxBytes = v));
  read('REDFLY_CACHE_MAX_COMMAND_BYTES', parseSize, (v) => (out.maxCommandBytes = v));
  read(
    'REDFLY_CACHE_DURABILITY',
    (v) => {
      if (v !== 'process' && v !== 'machine') throw new Error(`"${v}" is neither process nor machine`);
      return v as 'process' | 'machine';
    },
    (v) => (out.durability = v),
  );
  return out;
}
