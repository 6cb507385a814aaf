import {Flags} from '@oclif/core';
import type {CacheRegionStatus, CacheStatus} from '../../../api/cache';
import {BaseCommand} from '../../../cli/base-command';

export default class RedisCacheStatus extends BaseCommand<typeof RedisCacheStatus> {
  static summary = "Show an organization's regional cache: keys, memory and replay lag per region";
  static description =
    'Lag is how far a region is behind on database-1 commands (entries, and how long the oldest has waited). Dropped counts commands removed from the bounded backlog before a region applied them. A region is idle until an app first connects there.';
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --org acme --json'];

  static flags = {
    org: Flags.string({char: 'o', summary: 'organization slug', env: 'REDFLY_ORG'}),
  };

  async run(): Promise<CacheStatus> {
    const api = await this.api();
    const {resolveCacheInputs} = await import('../../../cli/cache-inputs');
    const ask = {canPrompt: this.canPrompt(), note: (l: string) => this.note(l), retry: (a: string[]) => this.retryWith(a)};
    const {org} = await resolveCacheInputs(api, this.flags, false, ask);
    const status = await api.getCacheStatus(org);
    if (!this.jsonEnabled()) {
      const [{table}, {bytes}] = await Promise.all([import('../../../cli/render'), import('../../../cli/format')]);
      const active = status.regions.filter((r) => r.state !== 'idle');
      const idle = status.regions.length - active.length;
      if (active.length > 0) {
        this.log(
          table(active, [
            {header: 'REGION', get: (r) => r.region, keep: true},
            {header: 'STATE', get: (r) => r.state},
            {header: 'KEYS', get: (r) => (r.keys === null ? 'unknown' : r.keys.toLocaleString('en-US'))},
            {header: 'MEMORY', get: (r) => `${r.memoryBytes === null ? 'unknown' : bytes(r.memoryBytes)} of ${bytes(r.maxmemoryBytes)}`},
            {header: 'REPLAY LAG', get: lagText},
            {header: 'DROPPED', get: (r) => String(r.dropped), keep: true, drop: 2},
            {header: 'REPLAY ERRORS', get: (r) => String(r.replayErrors), keep: true, drop: 1},
          ]),
        );
      } else {
        this.log('No region has been used yet.');
      }
      const b = status.backlog;
      this.log(
        `\nDatabase 1: ${plural(status.lastSeq, 'command')} accepted; backlog ${plural(b.entries, 'entry', 'entries')}, ` +
          `${bytes(b.bytes)} of ${bytes(b.maxBytes)}, kept up to ${Math.round(b.maxAgeMs / 60000)} min`,
      );
      if (idle > 0) this.log(`${idle} other region${idle === 1 ? '' : 's'} idle (the cache starts there on first connection)`);
    }
    return status;
  }
}

function lagText(r: CacheRegionStatus): string {
  if (r.lagEntries === 0) return 'none';
  return `${r.lagEntries.toLocaleString('en-US')} entries, ${r.lagMs.toLocaleString('en-US')} ms`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}
