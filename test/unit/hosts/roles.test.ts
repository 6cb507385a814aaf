import {parseRole, reportTimeoutFromEnv} from '../../../src/hosts/node';
import {tlsLines} from '../../../src/provision/config';
import {hostLines, ago} from '../../../src/cli/hosts';
import {hostView} from '../../../src/control/routes/hosts';
import type {HostRecord} from '../../../src/hosts/types';

const PG = {REDFLY_DATABASE_URL: 'postgres://redfly@db/redfly'};

describe('server --role / --region', () => {
  test('no --role is the single process of today, with or without a database URL', () => {
    expect(parseRole(undefined, undefined, {})).toBeNull();
    expect(parseRole(undefined, undefined, PG)).toBeNull();
  });
  test('a region host names its region; a control node has none', () => {
    expect(parseRole('region', 'ams', PG)).toEqual({role: 'region', region: 'ams'});
    expect(parseRole('control', undefined, PG)).toEqual({role: 'control', region: null});
  });
  test.each([
    ['region', 'ams', {}, /needs REDFLY_DATABASE_URL/],
    ['control', undefined, {}, /needs REDFLY_DATABASE_URL/],
    ['region', undefined, PG, /--role region needs --region/],
    ['control', 'ams', PG, /--region goes with --role region/],
    [undefined, 'ams', PG, /--region goes with --role region/],
    ['worker', undefined, PG, /--role must be control or region, not "worker"/],
  ])('--role %s --region %s is refused with the fix', (role, region, env, message) => {
    expect(() => parseRole(role, region, env as NodeJS.ProcessEnv)).toThrow(message);
  });
});

describe("a copy's redis.conf on a region host", () => {
  test('loopback only without TLS', () => {
    expect(tlsLines(undefined)).toEqual(['bind 127.0.0.1']);
  });
  test('a TLS port on the host address, replication over TLS, clients authenticated by password', () => {
    const lines = tlsLines({port: 21001, address: '10.0.1.1', certFile: '/h/tls/c.pem', keyFile: '/h/tls/k.pem', caFile: '/h/tls/ca.pem'});
    expect(lines).toEqual([
      'bind 127.0.0.1 10.0.1.1',
      'tls-port 21001',
      'tls-cert-file "/h/tls/c.pem"',
      'tls-key-file "/h/tls/k.pem"',
      'tls-ca-cert-file "/h/tls/ca.pem"',
      'tls-auth-clients no',
      'tls-replication yes',
    ]);
  });
  test('a wildcard address is bound alone (it covers loopback)', () => {
    expect(tlsLines({port: 1, address: '0.0.0.0', certFile: 'c', keyFile: 'k', caFile: 'a'})[0]).toBe('bind 0.0.0.0');
  });
});

const host = (over: Partial<HostRecord>): HostRecord => ({
  id: 'h_000000000001',
  role: 'region',
  region: 'mad',
  address: '10.0.1.1',
  apiUrl: null,
  gatewayPort: 6379,
  restPort: 8080,
  pid: 42,
  startedAt: '2026-11-30T10:00:00.000Z',
  lastSeenAt: '2026-11-30T10:00:00.000Z',
  report: {processes: [{database: 'db1', region: 'mad', role: 'primary', port: 21000, tlsPort: 21001, pid: 7, state: 'running', restarts: 0, lastExit: null}]},
  ...over,
});

describe('how hosts are shown', () => {
  const seen = Date.parse('2026-11-30T10:00:00.000Z');
  test('up while seen within 10 s, down after', () => {
    expect(hostView(host({}), seen + 5_000)).toMatchObject({up: true, lastSeenSecondsAgo: 5});
    expect(hostView(host({}), seen + 10_000).up).toBe(true);
    expect(hostView(host({}), seen + 10_001)).toMatchObject({up: false, lastSeenSecondsAgo: 10});
  });
  test('its copies from its report, with their TLS port', () => {
    expect(hostView(host({}), seen).processes).toEqual([{database: 'db1', region: 'mad', role: 'primary', port: 21000, tlsPort: 21001, state: 'running', restarts: 0}]);
    expect(hostView(host({report: null}), seen).processes).toEqual([]);
  });
  test('server status: one aligned line per host, "down" past the threshold', () => {
    const lines = hostLines([
      hostView(host({role: 'control', region: null, address: '10.0.0.1', apiUrl: 'https://10.0.0.1:4780', report: null}), seen + 1_000),
      hostView(host({}), seen + 65_000),
    ]);
    expect(lines).toEqual([
      '  control  -    10.0.0.1  up, seen 1s ago          https://10.0.0.1:4780',
      '  region   mad  10.0.1.1  down, last seen 65s ago  1 copy',
    ]);
    expect(ago(59)).toBe('59s ago');
    expect(ago(600)).toBe('10m ago');
    expect(ago(7200)).toBe('2h ago');
  });
});

describe('REDFLY_HOST_REPORT_TIMEOUT_MS', () => {
  test('unset: the default; a positive integer: that many ms', () => {
    expect(reportTimeoutFromEnv({})).toBeUndefined();
    expect(reportTimeoutFromEnv({REDFLY_HOST_REPORT_TIMEOUT_MS: '3000'})).toBe(3000);
  });
  test.each(['0', '-5', '1.5', 'soon'])('%s is refused, naming the variable', (v) => {
    expect(() => reportTimeoutFromEnv({REDFLY_HOST_REPORT_TIMEOUT_MS: v})).toThrow(/REDFLY_HOST_REPORT_TIMEOUT_MS must be a positive integer/);
  });
});
