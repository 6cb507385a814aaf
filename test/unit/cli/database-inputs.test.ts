import {orderRegions, parseRegionList, validatePlan, validateReplicaRegions} from '../../../src/cli/database-inputs';
import {PLANS, REGIONS} from '../helpers/harness';

describe('database inputs', () => {
  it('parses region lists as typed (nothing dropped, for the check to refuse); "" is the empty set', () => {
    expect(parseRegionList(' AMS, fra,,ams ')).toEqual(['ams', 'fra', '', 'ams']);
    expect(parseRegionList('')).toEqual([]);
    expect(parseRegionList(' ')).toEqual([]);
  });

  it('refuses what the API refuses, with its words: empty entries, twice, unknown, the primary', () => {
    expect(validateReplicaRegions(['ams', 'fra'], 'mad', REGIONS)).toEqual(['ams', 'fra']);
    expect(() => validateReplicaRegions(['', '', ''], 'mad', REGIONS)).toThrow('Read regions contain an empty entry');
    expect(() => validateReplicaRegions(['ams', 'ams'], 'mad', REGIONS)).toThrow('Read region ams is listed twice');
    expect(() => validateReplicaRegions(['xx'], 'mad', REGIONS)).toThrow('Unknown read region "xx"; valid region codes: ams, fra, syd');
    expect(() => validateReplicaRegions(['mad'], 'mad', REGIONS)).toThrow('Read region mad is the primary region');
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
