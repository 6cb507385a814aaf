// The catalogue is data: the shipped files, or an operator's copy in $REDFLY_HOME.
import {rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {loadCatalogue} from '../../../src/control/catalogue';
import {tempHome} from './helpers';

const home = tempHome('catalogue');
afterAll(() => rmSync(home, {recursive: true, force: true}));

test('the shipped catalogue has Fly regions and the three plans', () => {
  const c = loadCatalogue(home);
  expect(c.region('ams')?.name).toBe('Amsterdam, Netherlands');
  expect(c.plans.map((p) => p.id)).toEqual(['free', '200mb', '500mb']);
});

test("an operator's plans.json in the home replaces the shipped plans; regions stay shipped", () => {
  const plan = {
    id: '1gb',
    displayName: '1 GB',
    maxDataSizeBytes: 1073741824,
    maxConnections: 1000,
    maxCommandsPerSecond: 1000,
    maxDailyCommands: null,
    maxDailyBandwidthBytes: 53687091200,
    maxRequestSizeBytes: 10485760,
    pricePerMonthPerRegionUsd: 40,
  };
  writeFileSync(join(home, 'plans.json'), JSON.stringify([plan]));
  const c = loadCatalogue(home);
  expect(c.plans).toEqual([plan]);
  expect(c.plan('free')).toBeUndefined();
  expect(c.region('mad')).toBeDefined();
});

test('a broken override is a clear error naming the file', () => {
  writeFileSync(join(home, 'regions.json'), '{not json');
  expect(() => loadCatalogue(home)).toThrow(join(home, 'regions.json'));
});
