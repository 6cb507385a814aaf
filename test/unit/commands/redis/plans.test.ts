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

  it('shows an operator plan without a throttle (0 commands/s) as unlimited', async () => {
    const bench = {...PLANS[1], id: 'bench', displayName: 'Bench', maxCommandsPerSecond: 0};
    const scope = api().get('/v1/plans').reply(200, [bench]);
    const {stdout} = await run(RedisPlans, []);
    const [, row] = stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/));
    expect(row[4]).toBe('unlimited');
    scope.done();
  });

  it('--json prints the plans as the API gives them', async () => {
    const scope = api().get('/v1/plans').reply(200, PLANS);
    const {stdout} = await run(RedisPlans, ['--json']);
    expect(JSON.parse(stdout)).toEqual(PLANS);
    scope.done();
  });
});

describe('redis plans in a 60-column terminal with NO_COLOR (issue 13)', () => {
  useFakeApi();
  afterEach(() => jest.restoreAllMocks());

  it('every row fits: the least needed columns are left out, plan and price stay', async () => {
    const terminal = await import('../../../../src/cli/terminal');
    jest.spyOn(terminal, 'terminalWidth').mockReturnValue(60);
    jest.spyOn(terminal, 'stdoutIsStyled').mockReturnValue(false);
    const scope = api().get('/v1/plans').reply(200, PLANS);
    const {stdout} = await run(RedisPlans, []);
    const lines = stdout.trimEnd().split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(60);
    expect(lines[0]).toMatch(/^PLAN {2}.*MAX DATA SIZE.*PRICE\/MONTH\/REGION$/);
    expect(lines[2]).toMatch(/^200mb .*\$10$/);
    scope.done();
  });
});
