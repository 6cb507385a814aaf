// `redfly redis dashboard` in a real browser (Debian's chromium, headless, driven by
// playwright-core) against a real server: the one-time link logs in, the page's numbers are the
// ones `redis status --json` shows, and a chart moves while ioredis sends load. Screenshots go to
// test/artifacts/ (gitignored) for a person to look at.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import type {Browser, Page} from 'playwright-core';
import {pidOnPort} from '../integration/control/helpers';
import {assertBuilt, cliEnv, ok, redfly, ROOT, startServer, stopServer, tempHome} from './helpers';

jest.setTimeout(120_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');

let home: string;
let env: NodeJS.ProcessEnv;
let browser: Browser;
let client: Redis | undefined;
const json = async (args: string[]) => JSON.parse(ok(await redfly([...args, '--json'], {env})).stdout);

beforeAll(async () => {
  assertBuilt();
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  home = tempHome('redfly-dashboard-');
  env = cliEnv(home);
  await startServer(home);
  await json(['redis', 'create', '-n', 'dash', '-r', 'ams', '--replica-regions', 'mad', '--plan', '200mb']);
  const {chromium} = await import('playwright-core');
  browser = await chromium.launch({executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage']});
  fs.mkdirSync(ARTIFACTS, {recursive: true});
});

afterAll(async () => {
  client?.disconnect();
  await browser?.close();
  await stopServer(home);
  fs.rmSync(home, {recursive: true, force: true});
});

/** Opens a fresh one-time link in a new browser context (no cookies) and waits for data. */
async function openDashboard(args: string[]): Promise<{page: Page; url: string}> {
  const link = await json(['redis', 'dashboard', ...args, '--no-open']);
  const context = await browser.newContext({viewport: {width: 1280, height: 1000}});
  const page = await context.newPage();
  await page.goto(link.url);
  await page.waitForFunction(() => Number(document.body.dataset.samples ?? 0) >= 2, undefined, {timeout: 20_000});
  return {page, url: link.url};
}

const tile = (page: Page, id: string) =>
  page.$eval(`[data-testid="${id}"]`, (e) => ({value: (e as HTMLElement).dataset.value, limit: (e as HTMLElement).dataset.limit}));

test('the link logs in once, never carries the token, and the numbers match `redis status --json`', async () => {
  const token = JSON.parse(fs.readFileSync(path.join(home, 'local-credentials.json'), 'utf8')).token as string;
  const {page, url} = await openDashboard(['dash']);
  expect(url).not.toContain(token);
  expect(new URL(page.url()).pathname).toBe('/dashboard/databases/dash');
  expect(await page.textContent('#title')).toBe('dash');

  const status = await json(['redis', 'status', 'dash']);
  expect(await page.textContent('#status')).toBe(status.status);
  const usage = status.usage;
  expect(await tile(page, 'connections')).toEqual({value: String(usage.connections.used), limit: String(usage.connections.limit)});
  expect((await tile(page, 'commands')).limit).toBe(usage.commandsToday.limit === null ? '' : String(usage.commandsToday.limit));
  expect((await tile(page, 'bandwidth')).limit).toBe(String(usage.bandwidthTodayBytes.limit));
  expect((await tile(page, 'memory')).limit).toBe(String(usage.dataSizeBytes.limit));
  // the processes as the API shows them (`redis status --json` prints them once issue 13's
  // rough edge 5 lands; the API record is the same source)
  const creds = JSON.parse(fs.readFileSync(path.join(home, 'local-credentials.json'), 'utf8'));
  const record = await (await fetch(`${creds.apiUrl}/v1/databases/dash`, {headers: {authorization: `Bearer ${token}`}})).json();
  const regions = await page.$$eval('#processes tr[data-region]', (rows) =>
    rows.map((r) => [...r.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent)),
  );
  expect(regions).toEqual(record.processes.map((p: {region: string; role: string; state: string}) => [p.region, p.role, p.state]));

  // the same link a second time: refused, and no cookie of its own
  const again = await (await browser.newContext()).newPage();
  const res = await again.goto(url);
  expect(res!.status()).toBe(401);
  expect(await again.textContent('body')).toContain('expired or has been used');
});

test('under load the ops chart moves and the figures follow; screenshot', async () => {
  const {page} = await openDashboard(['dash']);
  const status = await json(['redis', 'status', 'dash']);
  client = new Redis(status.endpoints.ams, {maxRetriesPerRequest: 1});
  const opsMax = () => page.evaluate(() => Math.max(0, ...((window as any).redflyDashboard.series.ops[1] as number[])));
  expect(await opsMax()).toBe(0);

  let running = true;
  const load = (async () => {
    let i = 0;
    while (running) {
      const p = client!.pipeline();
      for (let j = 0; j < 200; j++) p.set(`key:${i++ % 5000}`, 'v'.repeat(200));
      await p.exec();
    }
  })();
  try {
    await page.waitForFunction(() => Math.max(0, ...(window as any).redflyDashboard.series.ops[1]) > 100, undefined, {timeout: 20_000});
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="connections"]')!.getAttribute('data-value')) >= 1);
    await page.waitForTimeout(3000); // a few more points, for the screenshot
    await page.screenshot({path: path.join(ARTIFACTS, 'dashboard-database.png'), fullPage: true});
  } finally {
    running = false;
    await load;
  }
  expect(await opsMax()).toBeGreaterThan(100);
  const commands = Number((await tile(page, 'commands')).value);
  const after = await json(['redis', 'status', 'dash']);
  expect(commands).toBeGreaterThan(1000);
  expect(commands).toBeLessThanOrEqual(after.usage.commandsToday.used);
  const memory = await page.evaluate(() => (window as any).redflyDashboard.series.memory[1].filter((v: number | null) => v !== null).length);
  expect(memory).toBeGreaterThan(2);
});

test("the organization's page lists its databases and links to them; screenshot", async () => {
  const {page} = await openDashboard(['--org', 'personal']);
  expect(new URL(page.url()).pathname).toBe('/dashboard/orgs/personal');
  await page.waitForFunction(() => Number(document.body.dataset.samples ?? 0) >= 4);
  const names = await page.$$eval('#databases tr[data-name]', (rows) => rows.map((r) => r.getAttribute('data-name')));
  expect(names).toEqual(['dash']);
  await page.screenshot({path: path.join(ARTIFACTS, 'dashboard-org.png'), fullPage: true});
  await page.click('#databases a');
  await page.waitForURL('**/dashboard/databases/dash');
  await page.waitForFunction(() => Number(document.body.dataset.samples ?? 0) >= 1);
});

test('a crashed process shows as an event and a restart on the page', async () => {
  const {page} = await openDashboard(['dash']);
  const creds = JSON.parse(fs.readFileSync(path.join(home, 'local-credentials.json'), 'utf8'));
  const record = await (await fetch(`${creds.apiUrl}/v1/databases/dash`, {headers: {authorization: `Bearer ${creds.token}`}})).json();
  const port = record.processes.find((p: {region: string}) => p.region === 'mad').port;
  const pid = pidOnPort(home, port);
  expect(pid).toBeDefined();
  process.kill(pid!, 'SIGKILL');
  await page.waitForFunction(() => document.querySelector('#events li:not(.muted)') !== null, undefined, {timeout: 20_000});
  expect(await page.textContent('#events')).toContain('mad replica');
  await page.waitForFunction(
    () => document.querySelector('#processes tr[data-region="mad"] td:nth-child(4)')?.textContent === '1',
    undefined,
    {timeout: 20_000},
  );
  await page.screenshot({path: path.join(ARTIFACTS, 'dashboard-events.png'), fullPage: true});
});

test('without a session the pages and their data are refused; a revoked token ends its sessions', async () => {
  const apiUrl = JSON.parse(fs.readFileSync(path.join(home, 'local-credentials.json'), 'utf8')).apiUrl as string;
  const data = await fetch(`${apiUrl}/dashboard/data/databases/dash`);
  expect(data.status).toBe(401);
  expect((await data.json()).error.code).toBe('unauthorized');
  expect((await fetch(`${apiUrl}/dashboard/databases/dash`)).status).toBe(401);

  const viewer = await json(['tokens', 'create', '-o', 'personal', '-n', 'viewer']);
  const link = JSON.parse(
    ok(await redfly(['redis', 'dashboard', 'dash', '--no-open', '--json'], {env: cliEnv(home, {REDFLY_ACCESS_TOKEN: viewer.token})})).stdout,
  );
  const page = await (await browser.newContext()).newPage();
  await page.goto(link.url);
  await page.waitForFunction(() => Number(document.body.dataset.samples ?? 0) >= 1);
  await json(['tokens', 'revoke', viewer.id, '--yes']);
  await page.waitForFunction(() => document.body.dataset.error !== undefined, undefined, {timeout: 10_000});
  expect(await page.textContent('#updated')).toContain('session ended');
});
