import '../../helpers/oclif-env';
import RegionsList from '../../../../src/commands/regions/list';
import {api, REGIONS, run, useFakeApi} from '../../helpers/harness';

describe('regions list', () => {
  useFakeApi();

  it('prints codes and names', async () => {
    const scope = api().get('/v1/regions').reply(200, REGIONS);
    const {stdout, exitCode} = await run(RegionsList, []);
    expect(exitCode).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual(['CODE', 'NAME']);
    expect(lines[3].split(/\s{2,}/)).toEqual(['mad', 'Madrid, Spain']);
    scope.done();
  });

  it('--json prints the regions', async () => {
    const scope = api().get('/v1/regions').reply(200, REGIONS);
    expect(JSON.parse((await run(RegionsList, ['--json'])).stdout)).toEqual(REGIONS);
    scope.done();
  });
});
