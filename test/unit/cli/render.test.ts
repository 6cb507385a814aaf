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

  it('fits the terminal width: no line is longer, one line per row, the long cell cut with an ellipsis', () => {
    const out = table(rows, columns, {styled: false, width: 50});
    const lines = out.split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(50);
    expect(lines[1]).toMatch(/^abcdefghijklmno {2}redis:\/\/default:0123.*\u2026$/);
    expect(lines[2]).toBe('zzzzzzzzzzzzzzz  redis://default:short@127.0.0.1:\u2026');
  });

  it('a column marked keep (a URL, an id) is never cut: the others give way', () => {
    const kept = [columns[0], {...columns[1], keep: true}];
    const out = table(rows, kept, {styled: false, width: 60});
    expect(out).toContain(rows[0].url);
    expect(out).toContain(rows[1].url);
  });

  it('drops columns by rank when cutting is not enough, and fits', () => {
    const wide = [
      {header: 'ID', get: (r: (typeof rows)[0]) => r.id, keep: true},
      {header: 'URL', get: (r: (typeof rows)[0]) => r.url, keep: true, drop: 1},
      {header: 'LEN', get: (r: (typeof rows)[0]) => String(r.url.length)},
    ];
    const out = table(rows, wide, {styled: false, width: 30});
    expect(out.split('\n')[0]).toBe('ID               LEN');
    for (const line of out.split('\n')) expect(line.length).toBeLessThanOrEqual(30);
  });

  it('styled at 60 columns: escape codes stay whole (every bold is closed) and lines fit', () => {
    const many = Array.from({length: 8}, (_, i) => ({header: `COLUMN ${i}`, get: (r: (typeof rows)[0]) => `${r.id}-${i}`, drop: i}));
    const out = table(rows, many, {styled: true, width: 60});
    const visible = out.replace(/\u001B\[\d+m/g, '');
    for (const line of visible.split('\n')) expect(line.length).toBeLessThanOrEqual(60);
    expect((out.match(/\u001B\[1m/g) ?? []).length).toBe((out.match(/\u001B\[22m/g) ?? []).length);
    expect(out.replace(/\u001B\[(1|22)m/g, '')).not.toMatch(/\u001B|\[\d*m/);
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
  it('aligns keys and wraps long values under themselves, at spaces', () => {
    const out = keyValue([['ID', 'x'], ['Status', 'failed (redis-server exited twice)']], {styled: false, width: 35});
    expect(out.split('\n')).toEqual(['ID      x', 'Status  failed (redis-server exited', '        twice)']);
  });

  it('never breaks a URL: it stays whole on its line, however narrow the terminal', () => {
    const url = 'redis://default:0123456789abcdef0123456789abcdef@127.0.0.1:20001';
    const out = keyValue([['ID', 'x'], ['Private URL', url]], {styled: false, width: 40});
    expect(out.split('\n')).toEqual(['ID           x', `Private URL  ${url}`]);
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
