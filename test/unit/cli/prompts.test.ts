// The prompt wrapper driven through real @inquirer/prompts with a fake keyboard and screen.
import {PassThrough} from 'node:stream';
import * as prompts from '../../../src/cli/prompts';
import {isPromptAbort} from '../../../src/cli/failures';
import {askEviction, askName, askReplicaRegions, EVICTION_EXPLAINED} from '../../../src/cli/database-prompts';
import {REGIONS} from '../helpers/harness';

const ENTER = '\r';
const DOWN = '\u001B[B';
const SPACE = ' ';
const CTRL_C = '\u0003';

let input: PassThrough;
let screen: string;

beforeEach(() => {
  input = new PassThrough();
  const output = new PassThrough();
  screen = '';
  output.on('data', (chunk) => (screen += chunk.toString()));
  prompts.setPromptStreams({input, output});
});
afterEach(() => prompts.setPromptStreams({}));

const tick = () => new Promise((r) => setTimeout(r, 20));
async function type(...keys: string[]) {
  for (const key of keys) {
    await tick();
    input.write(key);
  }
}
const plain = (text: string) => text.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, '');

describe('prompts', () => {
  it('select shows the choices and starts on the default', async () => {
    const answer = prompts.select({
      message: 'Select a plan:',
      choices: [
        {name: 'Free (free)', value: 'free'},
        {name: '200 MB (200mb)', value: '200mb'},
        {name: '500 MB (500mb)', value: '500mb'},
      ],
      default: '200mb',
    });
    await type(DOWN, ENTER);
    await expect(answer).resolves.toBe('500mb');
    expect(plain(screen)).toContain('Select a plan:');
    expect(plain(screen)).toContain('Free (free)');
  });

  it('checkbox returns the ticked values, preselected ones included', async () => {
    const answer = askReplicaRegions(REGIONS, 'mad', ['ams']);
    // nearest to Madrid first: Frankfurt, then Amsterdam (already ticked), then Sydney
    await tick();
    const shown = plain(screen);
    expect(shown.indexOf('(fra)')).toBeLessThan(shown.indexOf('(ams)'));
    expect(shown.indexOf('(ams)')).toBeLessThan(shown.indexOf('(syd)'));
    expect(shown).toContain('can be changed later');
    expect(shown).not.toContain('(mad)');
    await type(SPACE, ENTER);
    await expect(answer).resolves.toEqual(['fra', 'ams']);
  });

  it('input validates and re-asks until the name is acceptable; blank is accepted', async () => {
    const answer = askName();
    await type('B', 'a', 'd', ENTER);
    await tick();
    expect(plain(screen)).toContain('lowercase letters, digits or dashes');
    // erase the bad name, then submit blank
    await type('\u007F', '\u007F', '\u007F', ENTER);
    await expect(answer).resolves.toBe('');
  });

  it('confirm defaults to no for eviction and explains it', async () => {
    const answer = askEviction(false);
    await type(ENTER);
    await expect(answer).resolves.toBe(false);
    expect(plain(screen)).toContain(`${EVICTION_EXPLAINED}\n`);
    expect(plain(screen)).toContain('Enable eviction? No');
  });

  it('Ctrl-C rejects with an error the CLI turns into "Aborted." (exit 130)', async () => {
    const answer = prompts.confirm({message: 'Delete?', default: false});
    await type(CTRL_C);
    const error = await answer.catch((e) => e);
    expect(isPromptAbort(error)).toBe(true);
  });
});
