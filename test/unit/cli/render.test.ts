import {fitWidths, keyValue, table} from '../../../src/cli/render';
import {isInteractive, stdoutIsStyled} from '../../../src/cli/terminal';

const rows = [
  {id: 'abcdefghijklmno', url: 'redis://default:0123456789abcdef0123456789abcdef@127.0.0.1:20001'},
  {id: 'zzzzzzzzzzzzzzz', url: 'redis://default:short@127.0.0.1:20002'},
];
const columns = [
  {header: 'ID', get: (r: (typeof rows)[0]) => r.id},
  {header: 'URL', get: (r: (typeof rows)[0]) => r.url},
];
const ESC = /\u001B\[/;

describe('table', () => {
  it('plain: aligned columns, no colour or border codes, nothing cut when there is no width', () => {
    const out = table(rows, columns, {styled: false});
    expect(out).not.toMatch(ESC);
    expect(out.split('\n')[0]).toBe('ID               URL');
    expect(out).toContain(rows[0].url);
  });

  it('fits the terminal width: no line is longer, and the long cell wraps rather than disappears', () => {
    const out = table(rows, columns, {styled: false, width: 50});
    for (const line of out.split('\n')) expect(line.length).toBeLessThanOrEqual(50);
    expect(out.replace(/\s+/g, '')).toContain(rows[0].url);
  });

  it('styled (a terminal without NO_COLOR): bold headers', () => {
    expect(table(rows, columns, {styled: true})).toMatch(ESC);
  });

  it('fitWidths shrinks the widest column first', () => {
    expect(fitWidths([10, 40, 8], 50)).toEqual([10, 28, 8]);
    expect(fitWidths([10, 40], undefined)).toEqual([10, 40]);
  });
});

describe('keyValue', () => {
  it('aligns keys and wraps long values under themselves', () => {
    const out = keyValue([['ID', 'x'], ['Private URL', 'a'.repeat(30)]], {styled: false, width: 35});
    expect(out.split('\n')).toEqual(['ID           x', `Private URL  ${'a'.repeat(22)}`, `             ${'a'.repeat(8)}`]);
  });
});

describe('terminal rules', () => {
  const saved = {env: {...process.env}, inTTY: process.stdin.isTTY, outTTY: process.stdout.isTTY};
  afterEach(() => {
    process.env = {...saved.env};
    process.stdin.isTTY = saved.inTTY;
    process.stdout.isTTY = saved.outTTY;
  });

  it('prompts only when stdin and stdout are terminals and CI is unset', () => {
    delete process.env.CI;
    process.stdin.isTTY = true;
    process.stdout.isTTY = true;
    expect(isInteractive()).toBe(true);
    process.env.CI = 'true';
    expect(isInteractive()).toBe(false);
    delete process.env.CI;
    process.stdin.isTTY = false;
    expect(isInteractive()).toBe(false);
  });

  it('no styling when piped or with NO_COLOR', () => {
    process.stdout.isTTY = true;
    delete process.env.NO_COLOR;
    process.env.TERM = 'xterm';
    expect(stdoutIsStyled()).toBe(true);
    process.env.NO_COLOR = '1';
    expect(stdoutIsStyled()).toBe(false);
    delete process.env.NO_COLOR;
    process.stdout.isTTY = false;
    expect(stdoutIsStyled()).toBe(false);
  });
});
