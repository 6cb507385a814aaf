import type {Plan} from '../../api/types';
import {BaseCommand} from '../../cli/base-command';
import {bytes, count, rate} from '../../cli/format';

export default class RedisPlans extends BaseCommand<typeof RedisPlans> {
  static summary = 'List the plans with their limits and price';
  static description = 'Limits apply per database across all its regions; the price is per month and per region.';
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];

  async run(): Promise<Plan[]> {
    const plans = await (await this.api()).listPlans();
    if (!this.jsonEnabled()) {
      const {table} = await import('../../cli/render');
      this.log(
        table(plans, [
          {header: 'PLAN', get: (p) => p.id, keep: true},
          {header: 'NAME', get: (p) => p.displayName, drop: 1},
          {header: 'MAX DATA SIZE', get: (p) => bytes(p.maxDataSizeBytes), keep: true},
          {header: 'CONNECTIONS', get: (p) => count(p.maxConnections), keep: true, drop: 4},
          {header: 'COMMANDS/S', get: (p) => rate(p.maxCommandsPerSecond), keep: true, drop: 5},
          {header: 'DAILY COMMANDS', get: (p) => count(p.maxDailyCommands), keep: true, drop: 3},
          {header: 'DAILY BANDWIDTH', get: (p) => bytes(p.maxDailyBandwidthBytes), keep: true, drop: 6},
          {header: 'MAX REQUEST', get: (p) => bytes(p.maxRequestSizeBytes), keep: true, drop: 7},
          {header: 'PRICE/MONTH/REGION', get: (p) => `$${p.pricePerMonthPerRegionUsd}`, keep: true},
        ]),
      );
    }
    return plans;
  }
}
