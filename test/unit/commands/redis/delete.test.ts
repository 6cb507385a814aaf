import '../../helpers/oclif-env';
import * as prompts from '../../../../src/cli/prompts';
import RedisDelete from '../../../../src/commands/redis/delete';
import {api, db, DB_KEYS, run, useFakeApi} from '../../helpers/harness';

describe('redis delete', () => {
  useFakeApi();
  afterEach(() => jest.restoreAllMocks());

  it('--yes deletes, waits until the record is gone, and says so', async () => {
    const scope = api()
      .get('/v1/databases/my-cache').reply(200, db())
      .delete('/v1/databases/abcdefghijklmno').reply(202, db({status: 'deleting'}))
      .get('/v1/databases/abcdefghijklmno').reply(200, db({status: 'deleting'}))
      .get('/v1/databases/abcdefghijklmno').reply(404, {error: {code: 'not_found', message: 'gone'}});
    const {stdout, stderr, exitCode} = await run(RedisDelete, ['my-cache', '-y']);
    expect(exitCode).toBe(0);
    expect(stdout).toBe('Deleted database my-cache (abcdefghijklmno).\n');
    expect(stderr).toContain('Deleting my-cache... done');
    scope.done();
  });

  it('a delete that fails on the server ends the spinner line and shows the reason, exit 1', async () => {
    const scope = api()
      .get('/v1/databases/my-cache').reply(200, db())
      .delete('/v1/databases/abcdefghijklmno').reply(202, db({status: 'deleting'}))
      .get('/v1/databases/abcdefghijklmno').reply(200, db({status: 'failed', statusMessage: 'delete failed: disk is read-only'}));
    const {stdout, stderr, exitCode} = await run(RedisDelete, ['my-cache', '-y']);
    expect(exitCode).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('Deleting my-cache... failed\n');
    expect(stderr).toContain('delete failed: disk is read-only');
    scope.done();
  });

  it('--json prints the database document, without its URL or password (issue 13)', async () => {
    const scope = api()
      .get('/v1/databases/my-cache').reply(200, db({endpoints: {mad: 'redis://default:secret@127.0.0.1:7001'}}))
      .delete('/v1/databases/abcdefghijklmno').reply(202, db({status: 'deleting', endpoints: {mad: 'redis://default:secret@127.0.0.1:7001'}}))
      .get('/v1/databases/abcdefghijklmno').reply(404, {error: {code: 'not_found', message: 'gone'}});
    const {stdout, stderr, exitCode} = await run(RedisDelete, ['my-cache', '--yes', '--json']);
    expect(exitCode).toBe(0);
    expect(stderr).toBe('');
    const doc = JSON.parse(stdout);
    expect(Object.keys(doc).sort()).toEqual(DB_KEYS.filter((k) => k !== 'privateUrl').sort());
    expect(doc.status).toBe('deleted');
    expect(stdout).not.toContain('secret');
    expect(stdout).not.toContain('redis://');
    scope.done();
  });

  it('without a terminal and without --yes: exit 2, no request at all', async () => {
    const confirm = jest.spyOn(prompts, 'confirm');
    const {stderr, exitCode} = await run(RedisDelete, ['my-cache']);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('Missing flag --yes');
    expect(confirm).not.toHaveBeenCalled();
  });

  it('asks first at a terminal, warning it cannot be undone; "no" deletes nothing and exits 0', async () => {
    const confirm = jest.spyOn(prompts, 'confirm').mockResolvedValue(false);
    const scope = api().get('/v1/databases/my-cache').reply(200, db());
    const {stdout, stderr, exitCode} = await run(RedisDelete, ['my-cache'], {interactive: true});
    expect(exitCode).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toBe('Nothing deleted.\n');
    expect(confirm.mock.calls[0][0]).toEqual({
      message: 'Delete database my-cache (abcdefghijklmno) and all its data? This cannot be undone.',
      default: false,
    });
    scope.done();
  });

  it('"yes" at the prompt deletes', async () => {
    jest.spyOn(prompts, 'confirm').mockResolvedValue(true);
    const scope = api()
      .get('/v1/databases/my-cache').reply(200, db())
      .delete('/v1/databases/abcdefghijklmno').reply(202, db({status: 'deleting'}))
      .get('/v1/databases/abcdefghijklmno').reply(404, {error: {code: 'not_found', message: 'gone'}});
    const {exitCode} = await run(RedisDelete, ['my-cache'], {interactive: true});
    expect(exitCode).toBe(0);
    scope.done();
  });

  it('Ctrl-C at the prompt: "Aborted.", exit 130, nothing deleted', async () => {
    jest.spyOn(prompts, 'confirm').mockRejectedValue(Object.assign(new Error('closed'), {name: 'ExitPromptError'}));
    const scope = api().get('/v1/databases/my-cache').reply(200, db());
    const {stderr, exitCode} = await run(RedisDelete, ['my-cache'], {interactive: true});
    expect(exitCode).toBe(130);
    expect(stderr).toBe('Aborted.\n');
    scope.done();
  });

  it('is also reachable as destroy', () => {
    expect(RedisDelete.aliases).toContain('redis:destroy');
  });
});
