import {spawn, ChildProcess} from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import {buildSync} from 'esbuild';
import {LocalProvisioner} from '../../../src/provision/local';
import type {DesiredDatabase, ProcessSpec} from '../../../src/provision/types';
import {closeClients, connected, desired, internal, isAlive, killEverythingUnder, redisPidsUnder, SECRET, tempHome} from './helpers';

// The first owner of the home runs in a separate Node process that is then killed with SIGKILL:
// exactly what a crash of `redfly server` leaves behind (redis-server processes with no parent).
const home = tempHome();
const bundle = path.join(home, 'provision-bundle.js');
let owner: ChildProcess | null = null;
const provisioner = new LocalProvisioner({home, internalSecret: SECRET});

afterAll(async () => {
  owner?.kill('SIGKILL');
  closeClients();
  await provisioner.stopAll();
  killEverythingUnder(home);
  fs.rmSync(home, {recursive: true, force: true});
});

const OWNER_SCRIPT = `
const {LocalProvisioner} = require(process.env.BUNDLE);
const Redis = require('ioredis');
(async () => {
  const p = new LocalProvisioner({home: process.env.HOME_DIR, internalSecret: process.env.SECRET});
  const out = {};
  for (const db of JSON.parse(process.env.DBS)) {
    const specs = await p.ensure(db);
    const admin = new Redis({host: '127.0.0.1', port: specs[0].port, username: 'redfly', password: process.env.SECRET});
    await admin.set('written-by', 'first-owner');
    await admin.quit();
    out[db.id] = {specs, pids: p.health(db.id).map((h) => h.pid)};
  }
  console.log(JSON.stringify(out));
  setInterval(() => {}, 1000);
})().catch((e) => { console.error(e); process.exit(1); });
`;

async function runOwner(dbs: DesiredDatabase[]): Promise<Record<string, {specs: ProcessSpec[]; pids: number[]}>> {
  buildSync({
    entryPoints: [path.join(__dirname, '../../../src/provision/index.ts')],
    bundle: true,
    platform: 'node',
    outfile: bundle,
    logLevel: 'silent',
  });
  owner = spawn(process.execPath, ['-e', OWNER_SCRIPT], {
    env: {...process.env, BUNDLE: bundle, HOME_DIR: home, SECRET, DBS: JSON.stringify(dbs)},
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    readline.createInterface({input: owner!.stdout!}).once('line', resolve);
    owner!.once('exit', (code) => reject(new Error(`first owner exited with ${code}`)));
  });
  return JSON.parse(line);
}

test('reconcile() after a crash of the owning process adopts the left-over processes of its databases and stops the others', async () => {
  const kept = desired('dbkept', ['ams', 'fra']);
  const gone = desired('dbnorecord', []);
  const first = await runOwner([kept, gone]);
  const oldPids = [...first.dbkept.pids, ...first.dbnorecord.pids];
  for (const pid of oldPids) expect(isAlive(pid)).toBe(true);

  owner!.kill('SIGKILL');
  await new Promise((r) => owner!.once('exit', r));
  owner = null;
  for (const pid of oldPids) expect(isAlive(pid)).toBe(true); // orphans, as after a real crash

  await provisioner.reconcile([{...kept, processes: first.dbkept.specs}]);

  // A host that restarts its control process does not restart Redis: the same processes serve.
  for (const pid of first.dbkept.pids) expect(isAlive(pid)).toBe(true);
  for (const pid of first.dbnorecord.pids) expect(isAlive(pid)).toBe(false);
  const health = provisioner.health(kept.id);
  expect(health.map((h) => [h.region, h.port, h.state, h.pid])).toEqual(
    first.dbkept.specs.map((s, i) => [s.region, s.port, 'running', first.dbkept.pids[i]]),
  );
  for (const spec of first.dbkept.specs) {
    const c = await internal(spec.port);
    // An adopted replica serves at once and may still be receiving the owner's last write.
    for (let i = 0; i < 100 && (await c.get('written-by')) === null; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await c.get('written-by')).toBe('first-owner');
  }
  // A database without a record loses its processes, not its data (the control plane deletes).
  expect(provisioner.health(gone.id)).toEqual([]);
  expect(fs.existsSync(path.join(home, 'data', gone.id, 'mad', 'appendonlydir'))).toBe(true);
  expect(redisPidsUnder(home).sort()).toEqual(health.map((h) => h.pid).sort());
});
