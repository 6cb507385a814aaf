// Runs the built CLI (bin/run.js) as a user's shell would: a subprocess with its own
// REDFLY_HOME, nothing shared with the developer's ~/.redfly.
import {spawn} from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const BIN = path.join(ROOT, 'bin', 'run.js');

export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export function assertBuilt(): void {
  for (const file of ['dist/cli/bundle.js', 'oclif.manifest.json', 'dist/control/main.js']) {
    if (!fs.existsSync(path.join(ROOT, file))) throw new Error(`${file} is missing: run npm run build first`);
  }
}

export function tempHome(prefix = 'redfly-e2e-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A clean environment: no CI, no inherited redfly settings, the given home. */
export function cliEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env, REDFLY_HOME: home, REDFLY_AUTOSTART: '0', ...extra};
  for (const key of ['CI', 'REDFLY_API_URL', 'REDFLY_ACCESS_TOKEN', 'REDFLY_ORG', 'REDFLY_REGION', 'NODE_ENV']) {
    if (!(key in extra)) delete env[key];
  }
  return env;
}

export function redfly(args: string[], options: {env: NodeJS.ProcessEnv; input?: string}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {env: options.env, stdio: ['pipe', 'pipe', 'pipe']});
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({stdout, stderr, exitCode: code ?? -1}));
    child.stdin.end(options.input ?? '');
  });
}

export async function startServer(home: string): Promise<string> {
  const started = await redfly(['server', 'start', '--port', '0', '--json'], {env: cliEnv(home)});
  if (started.exitCode !== 0) throw new Error(`server start failed: ${started.stdout}${started.stderr}`);
  return JSON.parse(started.stdout).apiUrl as string;
}

export async function stopServer(home: string): Promise<void> {
  await redfly(['server', 'stop'], {env: cliEnv(home)});
}

/** Exit 0, or fail showing what the CLI printed. */
export function ok(result: CliResult): CliResult {
  if (result.exitCode !== 0) {
    throw new Error(`exit ${result.exitCode}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
  return result;
}

/**
 * Processes that belong to a redfly home: the server (its --home argument) and its redis-server
 * processes (they run in their data folder under the home). Linux (/proc) only.
 */
export function processesOf(home: string): {pid: number; command: string}[] {
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      const cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
      if (command.includes(home) || cwd.startsWith(home + path.sep)) found.push({pid: Number(entry), command});
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** Whether a TCP connection to 127.0.0.1:port is refused (nothing listens there any more). */
export function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}
