// The database rules alone: pure functions of the shipped catalogue and a record, no store, no
// provisioner, no Redis. The same rules are exercised through the API in api.test.ts.
import {loadCatalogue} from '../../../../src/control/catalogue';
import {
  checkPlan,
  checkReadRegions,
  checkRegion,
  checkUpdatable,
  desired,
  sameSet,
  withPorts,
} from '../../../../src/control/databases/rules';
import {canonicalJson} from '../../../../src/control/databases/idempotency';
import type {DatabaseRecord} from '../../../../src/store';
import {databaseRecord} from '../../../fixtures/records';

const catalogue = loadCatalogue();

const record = (over: Partial<DatabaseRecord> = {}): DatabaseRecord =>
  databaseRecord({
    name: 'my-cache',
    status: 'ready',
    processes: [
      {region: 'mad', role: 'primary', port: 21001},
      {region: 'ams', role: 'replica', port: 21002},
    ],
    ...over,
  });

const failure = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err as {statusCode: number; code: string; message: string};
  }
  throw new Error('expected a refusal');
};

describe('plans and regions', () => {
  it('a known plan is returned; an unknown one is a 400 unknown_plan listing the valid ids', () => {
    expect(checkPlan(catalogue, '200mb').id).toBe('200mb');
    const err = failure(() => checkPlan(catalogue, 'huge'));
    expect(err).toMatchObject({statusCode: 400, code: 'unknown_plan'});
    expect(err.message).toContain('free, 200mb, 500mb');
  });

  it('an unknown primary region is a 400 unknown_region that names the field', () => {
    expect(() => checkRegion(catalogue, 'mad', 'primary region')).not.toThrow();
    expect(failure(() => checkRegion(catalogue, 'xyz', 'primary region'))).toMatchObject({
      statusCode: 400,
      code: 'unknown_region',
      message: expect.stringContaining('unknown primary region "xyz"'),
    });
  });

  it('read regions: unknown ones named together, the primary refused, a region twice refused', () => {
    expect(checkReadRegions(catalogue, ['ams', 'syd'], 'mad')).toEqual(['ams', 'syd']);
    expect(failure(() => checkReadRegions(catalogue, ['xx', 'yy'], 'mad')).message).toContain('unknown read regions "xx", "yy"');
    expect(failure(() => checkReadRegions(catalogue, ['mad'], 'mad')).message).toContain('read region mad is the primary region');
    expect(failure(() => checkReadRegions(catalogue, ['ams', 'ams'], 'mad')).message).toBe('read region ams is listed twice');
    expect(failure(() => checkReadRegions(catalogue, ['', ''], 'mad')).message).toContain('read regions contain an empty entry');
    expect(failure(() => checkReadRegions(catalogue, ['', ''], 'mad')).statusCode).toBe(400);
  });
});

describe('updates', () => {
  it('name and primary region are immutable (422); so is a database being deleted', () => {
    expect(failure(() => checkUpdatable(record(), {name: 'other'}))).toMatchObject({statusCode: 422, code: 'immutable_field'});
    expect(failure(() => checkUpdatable(record(), {primaryRegion: 'ams'})).message).toContain('create a new database in ams instead');
    expect(failure(() => checkUpdatable(record({status: 'deleting'}), {plan: '200mb'}))).toMatchObject({code: 'invalid_change'});
    expect(() => checkUpdatable(record(), {name: 'my-cache', primaryRegion: 'mad', plan: '200mb'})).not.toThrow();
  });
});

describe('processes', () => {
  it('keeps the ports of processes that stay; a new process gets port 0 (the provisioner picks it)', () => {
    expect(withPorts('mad', ['syd'], record().processes)).toEqual([
      {region: 'mad', role: 'primary', port: 21001},
      {region: 'syd', role: 'replica', port: 0},
    ]);
  });

  it('desired state: maxmemory from the plan, 0 for a plan no longer in the catalogue', () => {
    const d = desired(catalogue, record({plan: '200mb'}));
    expect(d.maxmemoryBytes).toBe(catalogue.plan('200mb')!.maxDataSizeBytes);
    expect(d.processes.map((p) => p.region)).toEqual(['mad', 'ams']);
    expect(desired(catalogue, record({plan: 'retired'})).maxmemoryBytes).toBe(0);
  });

  it('sameSet ignores order', () => {
    expect(sameSet(['a', 'b'], ['b', 'a'])).toBe(true);
    expect(sameSet(['a'], ['a', 'b'])).toBe(false);
  });
});

describe('idempotency', () => {
  it('equal requests hash equally whatever the key order; undefined fields do not count', () => {
    expect(canonicalJson({b: 1, a: [1, {d: 2, c: undefined}]})).toBe(canonicalJson({a: [1, {d: 2}], b: 1}));
    expect(canonicalJson({a: 1})).not.toBe(canonicalJson({a: 2}));
  });
});
