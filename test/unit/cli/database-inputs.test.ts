import {orderRegions, parseRegionList, validatePlan} from '../../../src/cli/database-inputs';
import {PLANS, REGIONS} from '../helpers/harness';

describe('database inputs', () => {
  it('parses region lists forgivingly; "" is the empty set', () => {
    expect(parseRegionList(' AMS, fra,,ams ')).toEqual(['ams', 'fra']);
    expect(parseRegionList('')).toEqual([]);
  });

  it('offers the last used region first, then the nearest to it', () => {
    const {ordered, nearest} = orderRegions(REGIONS, 'fra');
    expect(nearest?.code).toBe('fra');
    expect(ordered.map((r) => r.code)).toEqual(['fra', 'ams', 'mad', 'syd']);
  });

  it('without a last region, starts from the city of the time zone', () => {
    expect(orderRegions(REGIONS, undefined, 'Australia/Sydney').ordered[0].code).toBe('syd');
    expect(orderRegions(REGIONS, undefined, 'Etc/UTC')).toEqual({ordered: REGIONS});
  });

  it('accepts a plan by id or display name', () => {
    expect(validatePlan('200 MB', PLANS).id).toBe('200mb');
    expect(() => validatePlan('gold', PLANS)).toThrow('Valid plans: free, 200mb');
  });
});
