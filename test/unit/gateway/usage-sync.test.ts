// Worker mode's counters (src/gateway/usage-sync.ts): each gateway process reports what it
// counted, the control process sums, and each process's limits see the sum.
import {TenantState} from '../../../src/gateway/tenant';
import type {ManagedTenant} from '../../../src/gateway/types';
import {type UsageReport, UsageLedger, UsageSync} from '../../../src/gateway/usage-sync';

const today = new Date().toISOString().slice(0, 10);
const tenant: ManagedTenant = {
  kind: 'managed', id: 'db1', eviction: false, primaryRegion: 'mad', primary: {host: '127.0.0.1', port: 1}, replicas: {},
  plan: {maxDataSizeBytes: 1e6, maxConnections: 10, maxCommandsPerSecond: 100, maxDailyCommands: 50,
    maxDailyBandwidthBytes: 1e9, maxRequestSizeBytes: 1e6},
};
const report = (r: Partial<UsageReport>): UsageReport => ({id: 'db1', day: today, commands: 0, bandwidthBytes: 0, connections: 0,
  dataSizeBytes: null, replicationLagMs: {}, ...r});
const client = () => ({kick: () => undefined});

/** A gateway process with one tenant state, syncing with `ledger` as `source`. */
function processOf(ledger: UsageLedger, source: string, clients: number) {
  const ts = new TenantState(tenant, 'redfly', 'secret', 100);
  for (let i = 0; i < clients; i++) ts.clients.add(client());
  const sync = new UsageSync(new Map([['db1', ts]]), (reports) => ledger.exchange(source, reports), () => undefined);
  return {ts, sync};
}

test('the ledger sums every source, starts from the saved counters of today, and ignores another day', () => {
  const ledger = new UsageLedger((id) => (id === 'db1' ? {day: today, commandsToday: 5, bandwidthTodayBytes: 50} : undefined));
  ledger.exchange('w1', [report({commands: 10, bandwidthBytes: 100, connections: 2})]);
  const totals = ledger.exchange('w2', [report({commands: 7, bandwidthBytes: 70, connections: 3})]);
  expect(totals).toEqual([{id: 'db1', day: today, commandsToday: 22, bandwidthTodayBytes: 220, otherConnections: 2}]);
  ledger.exchange('w2', [report({day: '2000-01-01', commands: 1000, connections: 3})]);
  expect(ledger.usage('db1')).toMatchObject({commandsToday: 22, bandwidthTodayBytes: 220, connections: 5});
  expect(ledger.connectionsBySource()).toEqual(new Map([['w1', 2], ['w2', 3]]));
  ledger.dropSource('w1');
  expect(ledger.usage('db1').connections).toBe(3);
});

test("two processes see each other's commands: the daily limit holds over their sum", async () => {
  const ledger = new UsageLedger();
  const a = processOf(ledger, 'w1', 1);
  const b = processOf(ledger, 'w2', 1);
  a.ts.commandsToday += 30;
  await a.sync.round();
  b.ts.commandsToday += 19;
  await b.sync.round();
  expect(b.ts.commandsToday).toBe(49);
  expect(b.ts.dailyLimitError()).toBeNull();
  b.ts.commandsToday++;
  expect(b.ts.dailyLimitError()).toBe('ERR max daily request limit exceeded. Limit: 50, Usage: 50.');
  await b.sync.round();
  await a.sync.round();
  expect(a.ts.commandsToday).toBe(50);
  expect(ledger.usage('db1').commandsToday).toBe(50);
});

test('commands counted while a report travels are kept on top of the totals, and never counted twice', async () => {
  const ledger = new UsageLedger();
  const a = processOf(ledger, 'w1', 1);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const slow = new UsageSync(new Map([['db1', a.ts]]), async (reports) => {
    await held; // the first report is held until release(); later ones pass at once
    return ledger.exchange('w1', reports);
  }, () => undefined);
  a.ts.commandsToday = 10;
  const round = slow.round();
  a.ts.commandsToday += 3; // while the report is out
  release();
  await round;
  expect(a.ts.commandsToday).toBe(13);
  expect(ledger.usage('db1').commandsToday).toBe(10);
  await slow.flush();
  expect(ledger.usage('db1').commandsToday).toBe(13);
  await slow.flush();
  expect(ledger.usage('db1').commandsToday).toBe(13);
});

test("the connection limit counts the other processes' connections, and the rate is split by connections", async () => {
  const ledger = new UsageLedger();
  const a = processOf(ledger, 'w1', 1);
  const b = processOf(ledger, 'w2', 3);
  await a.sync.round();
  await b.sync.round();
  await a.sync.round();
  expect(a.ts.connectionCount).toBe(4);
  expect(b.ts.connectionCount).toBe(4);
  expect(a.ts.rateShare).toBeCloseTo(0.25);
  expect(b.ts.rateShare).toBeCloseTo(0.75);
  // 100 commands/s: the process with a quarter of the connections runs 25 at once, then waits.
  let immediate = 0;
  while (a.ts.takeToken() === 0 && immediate < 200) immediate++;
  expect(immediate).toBeLessThanOrEqual(26);
});
