// Where the CLI sends its requests and with which token. Order: flags and their env twins, then
// the login saved by `${bin()} auth login`, then the local server of $REDFLY_HOME (started on
// demand). Only the last case touches the local-server module.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {redflyHome as home, statePaths} from '../lib/home';
import {CliFailure} from './errors';
import {bin} from './bin';

export interface SavedLogin {
  apiUrl: string;
  token: string;
  /** The CA that verifies an https API (the local server's own, $REDFLY_HOME/tls/ca.pem). */
  caFile?: string;
}

export interface Target {
  apiUrl: string;
  token?: string;
  caFile?: string;
  source: 'flags' | 'login' | 'local';
  home: string;
}

export {home};

export function loginFile(dir = home()): string {
  return path.join(dir, 'config.json');
}

export function readLogin(dir = home()): SavedLogin | undefined {
  return readJson<SavedLogin>(loginFile(dir), (v) => typeof v.apiUrl === 'string' && typeof v.token === 'string');
}

export function writeLogin(login: SavedLogin, dir = home()): string {
  fs.mkdirSync(dir, {recursive: true, mode: 0o700});
  const file = loginFile(dir);
  // Written then renamed so a crash never leaves half a token; 0600 because it is a secret.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(login, null, 2) + '\n', {mode: 0o600});
  fs.renameSync(tmp, file);
  return file;
}

export function removeLogin(dir = home()): boolean {
  try {
    fs.unlinkSync(loginFile(dir));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

export function readJson<T extends object>(file: string, valid: (v: T) => boolean): T | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as T;
    return value && typeof value === 'object' && valid(value) ? value : undefined;
  } catch {
    throw new CliFailure(`${file} is not valid JSON`, 'bad_config', [`fix or remove ${file}`]);
  }
}

/** What this module needs from ./local-server (owned by the control plane). */
interface LocalServerModule {
  readServerInfo(home: string): {pid: number; apiUrl: string} | undefined;
  isServerPid(pid: number): boolean;
  startLocalServer(options: {home: string; port?: number; foreground?: boolean}): Promise<{apiUrl: string; pid: number}>;
  readLocalCredentials(home: string): SavedLogin | undefined | null;
}

const sameUrl = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

export interface ResolveOptions {
  apiUrl?: string;
  token?: string;
  /** One line for the user on stderr (the autostart notice). */
  notice: (line: string) => void;
}

export async function resolveTarget(options: ResolveOptions): Promise<Target> {
  const dir = home();
  const login = readLogin(dir);
  if (options.apiUrl) {
    const token =
      options.token ??
      (login && sameUrl(login.apiUrl, options.apiUrl) ? login.token : undefined) ??
      localTokenFor(dir, options.apiUrl);
    return {apiUrl: options.apiUrl, token, source: 'flags', home: dir};
  }
  if (login) return {apiUrl: login.apiUrl, token: options.token ?? login.token, source: 'login', home: dir};
  const local = await ensureLocalServer(dir, options.notice);
  return {apiUrl: local.apiUrl, token: options.token ?? local.token, caFile: local.caFile, source: 'local', home: dir};
}

function localTokenFor(dir: string, apiUrl: string): string | undefined {
  const local = readJson<SavedLogin>(statePaths(dir).localCredentials, (v) => typeof v.apiUrl === 'string');
  return local && sameUrl(local.apiUrl, apiUrl) ? local.token : undefined;
}

async function ensureLocalServer(dir: string, notice: (line: string) => void): Promise<SavedLogin> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const local = require('./local-server') as LocalServerModule;
  // A live pid that is still our server is enough to go ahead: probing /healthz on every command
  // would cost a round trip (and loading fetch); a server that is up but unwell surfaces as the
  // request's own error. The pid of a crashed server may since belong to another program: then
  // server.json is stale and a fresh server is started.
  const info = local.readServerInfo(dir);
  if (!info || !local.isServerPid(info.pid)) {
    if (process.env.REDFLY_AUTOSTART === '0') {
      throw new CliFailure(
        `No redfly API is configured and the local server (state in ${dir}) is not running`,
        'no_server',
        [`${bin()} server start`, `${bin()} auth login --api-url <url> (for a remote API)`],
      );
    }
    // REDFLY_SERVER_PORT: where an autostarted server listens (default 4780; 0 = any free port).
    const port = process.env.REDFLY_SERVER_PORT ? Number(process.env.REDFLY_SERVER_PORT) : undefined;
    notice(`Starting the local redfly server in the background (state in ${dir})...`);
    try {
      await local.startLocalServer({home: dir, ...(Number.isInteger(port) ? {port} : {})});
    } catch (error) {
      // A command started the server for the user, so --port (of `server start`) is not theirs to
      // give here: the autostarted server's port is REDFLY_SERVER_PORT.
      if ((error as {code?: string}).code === 'port_in_use') {
        throw new CliFailure(
          `Could not start the local redfly server: ${(error as Error).message}. The port of a server started on demand is REDFLY_SERVER_PORT`,
          'port_in_use',
          ['REDFLY_SERVER_PORT=4781 (any free port; 0 lets the system choose)', `${bin()} server start --port 4781`],
        );
      }
      throw error;
    }
  }
  const creds = local.readLocalCredentials(dir);
  if (!creds) {
    throw new CliFailure(`The local server in ${dir} has not written its credentials`, 'no_credentials', [
      `${bin()} server status`,
    ]);
  }
  return creds;
}
