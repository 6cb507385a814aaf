// A port a process keeps across restarts of its host, in a file of its folder: a region host's
// copy keeps its TLS port (src/provision/config.ts, ProcessTls) so that other hosts' replicas and
// gateways find it again where they last saw it.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The port kept in `<dir>/<name>` when `take(port)` accepts it (it is free for us), else a new
 *  one from `fresh()`, written there. */
export async function keptPort(dir: string, name: string, take: (port: number) => boolean, fresh: () => Promise<number>): Promise<number> {
  const file = path.join(dir, name);
  const kept = Number(fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : NaN);
  if (Number.isInteger(kept) && kept > 0 && kept < 65536 && take(kept)) return kept;
  const port = await fresh();
  fs.mkdirSync(dir, {recursive: true});
  fs.writeFileSync(file, `${port}\n`);
  return port;
}
