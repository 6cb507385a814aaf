import '../helpers/oclif-env';
import {BaseCommand} from '../../../src/cli/base-command';
import {run, useFakeApi} from '../helpers/harness';

class Exits extends BaseCommand<typeof Exits> {
  static summary = 'test';
  async run(): Promise<void> {
    this.exit(3);
  }
}

class Throws extends BaseCommand<typeof Throws> {
  static summary = 'test';
  async run(): Promise<void> {
    throw new TypeError('cannot read properties of undefined');
  }
}

describe('BaseCommand', () => {
  useFakeApi();

  it('this.exit(n) ends with n and prints nothing', async () => {
    expect(await run(Exits, [])).toEqual({stdout: '', stderr: '', exitCode: 3});
  });

  it('an unexpected error is exit 1 with its message, in text and in JSON', async () => {
    const text = await run(Throws, []);
    expect(text.exitCode).toBe(1);
    expect(text.stderr).toContain('cannot read properties of undefined');
    const json = await run(Throws, ['--json']);
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({error: {code: 'internal_error', message: 'cannot read properties of undefined'}});
  });
});
