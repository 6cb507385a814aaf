// Per-organization quotas on databases, so one token cannot start redis-servers without end
// (every database is one or more processes, ports and descriptors on the host):
//  - how many databases an organization may have (REDFLY_ORG_MAX_DATABASES, default 100);
//  - how fast it may create them: a token bucket of REDFLY_ORG_CREATES_PER_MINUTE (default 30)
//    per minute with that many in a burst. Over either: 429 with Retry-After (seconds), as the
//    hosted APIs answer a rate limit.
import {ApiError} from './errors';

export interface QuotaOptions {
  maxDatabases: number;
  createsPerMinute: number;
}

export const DEFAULT_QUOTAS: QuotaOptions = {maxDatabases: 100, createsPerMinute: 30};

/** Reads REDFLY_ORG_MAX_DATABASES and REDFLY_ORG_CREATES_PER_MINUTE (positive integers). */
export function quotasFromEnv(env: NodeJS.ProcessEnv = process.env): QuotaOptions {
  const read = (name: string, dflt: number): number => {
    const v = env[name];
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not ${JSON.stringify(v)}`);
    return n;
  };
  return {
    maxDatabases: read('REDFLY_ORG_MAX_DATABASES', DEFAULT_QUOTAS.maxDatabases),
    createsPerMinute: read('REDFLY_ORG_CREATES_PER_MINUTE', DEFAULT_QUOTAS.createsPerMinute),
  };
}

/** A 429 that carries its Retry-After (seconds); the error handler sets the header. */
export class RateLimited extends ApiError {
  constructor(message: string, readonly retryAfterSeconds: number) {
    super(429, 'rate_limited', message);
  }
}

export class OrgQuotas {
  private readonly buckets = new Map<string, {tokens: number; at: number}>();

  constructor(readonly opts: QuotaOptions = DEFAULT_QUOTAS) {}

  /**
   * Before a database is created in `org`, which has `count` already: throws RateLimited when
   * over a quota, otherwise takes one create from the organization's budget.
   */
  admitCreate(org: string, count: number, now = Date.now()): void {
    const {maxDatabases, createsPerMinute} = this.opts;
    if (count >= maxDatabases) {
      throw new RateLimited(`organization ${org} has ${count} databases, its limit; delete one first`, 60);
    }
    const perMs = createsPerMinute / 60_000;
    const b = this.buckets.get(org) ?? {tokens: createsPerMinute, at: now};
    b.tokens = Math.min(createsPerMinute, b.tokens + (now - b.at) * perMs);
    b.at = now;
    if (b.tokens < 1) {
      this.buckets.set(org, b);
      const wait = Math.ceil((1 - b.tokens) / perMs / 1000);
      throw new RateLimited(`organization ${org} creates databases too fast (${createsPerMinute} a minute); retry in ${wait} s`, wait);
    }
    b.tokens -= 1;
    this.buckets.set(org, b);
  }
}
