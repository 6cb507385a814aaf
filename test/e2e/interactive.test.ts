// One interactive `redfly redis create` in a real terminal (tmux), answering every prompt as a
// person would, and a Ctrl-C in the middle of another.
import {execFileSync} from 'node:child_process';
import * as fs from 'node:fs';
import {assertBuilt, BIN, cliEnv, ok, redfly, startServer, stopServer, tempHome} from './helpers';

const SOCKET = `redfly-e2e-${process.pid}`;
let home: string;

const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], {encoding: 'utf8'});
const screen = (target: string) => tmux('capture-pane', '-p', '-t', target);
const keys = (target: string, ...k: string[]) => tmux('send-keys', '-t', target, ...k);

async function waitFor(target: string, text: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = screen(target);
    if (shown.includes(text)) return shown;
    if (Date.now() > deadline) throw new Error(`"${text}" never appeared; the screen shows:\n${shown}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A terminal 200x50 running the CLI, then printing its exit code and staying open. */
function openTerminal(name: string, args: string): string {
  const command =
    `env -u CI -u REDFLY_API_URL -u REDFLY_ACCESS_TOKEN REDFLY_HOME='${home}' REDFLY_AUTOSTART=0 TZ=Europe/Madrid ` +
    `'${process.execPath}' '${BIN}' ${args}; echo EXIT=$?; sleep 600`;
  tmux('new-session', '-d', '-s', name, '-x', '200', '-y', '50', command);
  return name;
}

beforeAll(async () => {
  assertBuilt();
  home = tempHome();
  await startServer(home);
}, 60_000);

afterAll(async () => {
  try {
    // tmux leaves its socket file behind after kill-server
    const socket = tmux('display-message', '-p', '#{socket_path}').trim();
    tmux('kill-server');
    fs.rmSync(socket, {force: true});
  } catch {
    // no session left
  }
  if (home) {
    await stopServer(home);
    fs.rmSync(home, {recursive: true, force: true});
  }
}, 60_000);

it('redis create asks every question and creates what was answered', async () => {
  const t = openTerminal('create', 'redis create');

  let shown = await waitFor(t, 'Choose a database name (leave blank to generate one):');
  expect(shown).toContain('Automatically selected organization Personal (personal)');
  keys(t, 'tui-db', 'Enter');

  shown = await waitFor(t, "Choose a primary region (can't be changed later):");
  // nearest first, from the time zone: Madrid
  expect(shown).toMatch(/❯ Madrid, Spain \(mad\)/);
  keys(t, 'Enter');

  shown = await waitFor(t, 'Optionally, choose replica regions (can be changed later):');
  const offered = [...shown.matchAll(/◯ .*\((\w{3})\)/g)].map((m) => m[1]);
  expect(offered).not.toContain('mad');
  keys(t, 'Space');
  keys(t, 'Down', 'Space', 'Enter');

  shown = await waitFor(t, 'Select a plan:');
  expect(shown).toContain('200 MB (200mb) - $10/month per region');
  keys(t, 'Down', 'Enter');

  shown = await waitFor(t, 'Enable eviction? (y/N)');
  expect(shown).toContain('Eviction: when the database is full');
  keys(t, 'y', 'Enter');

  shown = await waitFor(t, 'EXIT=', 30_000);
  expect(shown).toContain('EXIT=0');
  expect(shown).toMatch(/^URL: redis:\/\/default:\w+@127\.0\.0\.1:\d+/m);
  expect(shown).toContain('$30/month for 3 regions');

  const status = JSON.parse(ok(await redfly(['redis', 'status', 'tui-db', '--json'], {env: cliEnv(home)})).stdout);
  expect(status).toMatchObject({name: 'tui-db', primaryRegion: 'mad', plan: '200mb', eviction: true, status: 'ready'});
  expect([...status.readRegions].sort()).toEqual(offered.slice(0, 2).sort());
});

it('Ctrl-C at a prompt prints "Aborted.", exits 130 and creates nothing', async () => {
  const before = ok(await redfly(['redis', 'list', '--json'], {env: cliEnv(home)})).stdout;
  const t = openTerminal('abort', 'redis create');
  await waitFor(t, 'Choose a database name');
  keys(t, 'C-c');
  const shown = await waitFor(t, 'EXIT=');
  expect(shown).toContain('EXIT=130');
  expect(shown).toMatch(/^Aborted\.$/m);
  expect(shown).not.toMatch(/^\s+at /m);
  expect(ok(await redfly(['redis', 'list', '--json'], {env: cliEnv(home)})).stdout).toBe(before);
});
