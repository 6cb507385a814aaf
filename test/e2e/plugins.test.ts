// Shell completion (@oclif/plugin-autocomplete) and "did you mean" (@oclif/plugin-not-found),
// through the built CLI (issue 13); and that neither is loaded by the commands that do not use them.
import {spawnSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type {AddressInfo} from 'node:net';
import {assertBuilt, BIN, cliEnv, ok, redfly, tempHome} from './helpers';

let home: string;
beforeAll(() => {
  assertBuilt();
  home = tempHome('redfly-plugins-');
});
afterAll(() => fs.rmSync(home, {recursive: true, force: true}));

it('a mistyped command without a terminal: named with spaces (not redis:lst), the nearest command, exit 127, a pointer to help', async () => {
  const r = await redfly(['redis', 'lst'], {env: cliEnv(home)});
  expect(r.exitCode).toBe(127);
  expect(r.stderr).toContain('redis lst is not a redfly command. Did you mean redis list?');
  expect(r.stderr).not.toContain('redis:lst');
  expect(r.stderr).toContain('redfly help redis');
});

it('at a terminal, offers the nearest command ("Did you mean redis list?")', () => {
  // util-linux `script` gives the CLI a pseudo-terminal; "n" declines the offer.
  const r = spawnSync('script', ['-qec', `${process.execPath} ${BIN} redis lst`, '/dev/null'], {
    env: cliEnv(home),
    input: 'n\n',
    encoding: 'utf8',
    timeout: 30_000,
  });
  const text = r.stdout.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, '');
  expect(text).toContain('Did you mean redis list?');
});

it('bash completion completes commands and their flags, from a cache built by `redfly autocomplete`', () => {
  const cache = path.join(home, 'xdg-cache');
  const env = cliEnv(home, {XDG_CACHE_HOME: cache, HOME: home});
  const built = spawnSync(process.execPath, [BIN, 'autocomplete', 'bash'], {env, encoding: 'utf8'});
  expect(built.status).toBe(0);
  expect(built.stdout).toContain('redfly autocomplete script bash');
  const setup = spawnSync(process.execPath, [BIN, 'autocomplete', 'script', 'bash'], {env, encoding: 'utf8'});
  expect(setup.status).toBe(0);
  const complete = (line: string) => {
    const words = line.split(' ');
    const script = `${setup.stdout}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; COMP_LINE='${line}'; COMP_POINT=\${#COMP_LINE}
_redfly_autocomplete; echo "\${COMPREPLY[*]}"`;
    return spawnSync('bash', ['-c', script], {env, encoding: 'utf8'}).stdout.trim().split(/\s+/);
  };
  expect(complete('redfly redis pr')).toEqual(['proxy']);
  expect(complete('redfly redis proxy --')).toEqual(expect.arrayContaining(['--region', '--port', '--json']));
  expect(complete('redfly server st')).toEqual(expect.arrayContaining(['start', 'status', 'stop']));
});

it('ordinary commands read no file of either plugin (start-up stays as it was)', async () => {
  const api = http.createServer((_req, res) => {
    res.writeHead(200, {'content-type': 'application/json'});
    res.end(JSON.stringify({databases: [], nextCursor: null}));
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  const record = path.join(home, 'reads.json');
  try {
    const env = cliEnv(home, {
      REDFLY_API_URL: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
      REDFLY_ACCESS_TOKEN: 'x',
      RECORD_FILE: record,
      NODE_OPTIONS: `-r ${path.join(__dirname, 'fixtures', 'record-plugin-reads.js')}`,
    });
    ok(await redfly(['redis', 'list', '--json'], {env}));
    expect(JSON.parse(fs.readFileSync(record, 'utf8'))).toEqual([]);
    // The recorder works: the not-found path does load its plugin.
    await redfly(['redis', 'lst'], {env});
    expect(JSON.parse(fs.readFileSync(record, 'utf8')).some((p: string) => p.includes('plugin-not-found'))).toBe(true);
  } finally {
    await new Promise((r) => api.close(r));
  }
});
