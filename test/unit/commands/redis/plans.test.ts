import '../../helpers/oclif-env';
import RedisPlans from '../../../../src/commands/redis/plans';
import {api, PLANS, run, useFakeApi} from '../../helpers/harness';

describe('redis plans', () => {
  useFakeApi();

  it('prints every plan with its limits and price', async () => {
    const scope = api().get('/v1/plans').reply(200, PLANS);
    const {stdout, exitCode} = await run(RedisPlans, []);
    expect(exitCode).toBe(0);
    const [head, free, paid] = stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/));
    expect(head).toEqual(['PLAN', 'NAME', 'MAX DATA SIZE', 'CONNECTIONS', 'COMMANDS/S', 'DAILY COMMANDS', 'DAILY BANDWIDTH', 'MAX REQUEST', 'PRICE/MONTH/REGION']);
    expect(free).toEqual(['free', 'Free', '100 MB', '100', '300', '10,000', '10 GB', '10 MB', '$0']);
    expect(paid).toEqual(['200mb', '200 MB', '200 MB', '300', '300', 'unlimited', '10 GB', '10 MB', '$10']);
    scope.done();
  });

  it('--json prints the plans as the API gives them', async () => {
    const scope = api().get('/v1/plans').reply(200, PLANS);
    const {stdout} = await run(RedisPlans, ['--json']);
    expect(JSON.parse(stdout)).toEqual(PLANS);
    scope.done();
  });
});
