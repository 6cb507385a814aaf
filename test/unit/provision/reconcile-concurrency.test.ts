// How many databases a server start brings back (and adopts) at once: sized to the machine, bounded.
import {adoptConcurrency, reconcileConcurrency} from '../../../src/provision/concurrency';

test('four per core, at least 4 and at most 32', () => {
  expect(reconcileConcurrency({}, 1)).toBe(4);
  expect(reconcileConcurrency({}, 2)).toBe(8);
  expect(reconcileConcurrency({}, 6)).toBe(24);
  expect(reconcileConcurrency({}, 64)).toBe(32);
});

test('REDFLY_RECONCILE_CONCURRENCY overrides it; anything but a positive integer is refused by name', () => {
  expect(reconcileConcurrency({REDFLY_RECONCILE_CONCURRENCY: '1'}, 2)).toBe(1);
  expect(reconcileConcurrency({REDFLY_RECONCILE_CONCURRENCY: '100'}, 2)).toBe(100);
  expect(reconcileConcurrency({REDFLY_RECONCILE_CONCURRENCY: ''}, 2)).toBe(8);
  for (const bad of ['0', '-3', '2.5', 'many']) {
    expect(() => reconcileConcurrency({REDFLY_RECONCILE_CONCURRENCY: bad}, 2)).toThrow(
      `REDFLY_RECONCILE_CONCURRENCY must be a positive integer, not ${JSON.stringify(bad)}`,
    );
  }
});

test('adoption runs 64 at once unless REDFLY_ADOPT_CONCURRENCY says otherwise; bad values are refused by name', () => {
  expect(adoptConcurrency({})).toBe(64);
  expect(adoptConcurrency({REDFLY_ADOPT_CONCURRENCY: ''})).toBe(64);
  expect(adoptConcurrency({REDFLY_ADOPT_CONCURRENCY: '200'})).toBe(200);
  for (const bad of ['0', '-1', '1.5', 'lots']) {
    expect(() => adoptConcurrency({REDFLY_ADOPT_CONCURRENCY: bad})).toThrow(
      `REDFLY_ADOPT_CONCURRENCY must be a positive integer, not ${JSON.stringify(bad)}`,
    );
  }
});
