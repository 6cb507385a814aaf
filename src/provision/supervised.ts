// One supervised redis-server: spawn with an explicit config, wait until it answers, restart it
// with backoff when it dies on its own, stop it with SIGTERM then SIGKILL.
import type {ChildProcess} from 'node:child_process';
import * as fs from 'node:fs';
import {pidfilePath} from '../lib/home';
import {pidAlive, terminate} from '../lib/pids';
import {spawnRedis, startupOutput} from './runner';
import {ProcessStartError, ProcessStoppedError, RedisServerMissingError} from './errors';
import {adoptedWatch} from './pid-watch';
import {waitForPing, WaitOptions} from './readiness';
import type {RedisConnection} from '../redis/client';
import type {ProcessHealth, ProcessState} from './types';

export const START_TIMEOUT_MS = 60_000; // generous: loading a 500 MB AOF takes a while
const STOP_TIMEOUT_MS = 5_000;
export const SIGTERM_REPEAT_MS = 100;
const CRASH_WINDOW_MS = 30_000;
const MAX_CRASHES_IN_WINDOW = 5;
const MAX_PORT_ATTEMPTS = 5;
/** How long an adoption candidate gets to answer PING before it is stopped and started anew. */
const ADOPT_TIMEOUT_MS = 3_000;

export interface SupervisedOptions {
  databaseId: string;
  region: string;
  role: 'primary' | 'replica';
  port: number;
  dir: string;
  internalSecret: string;
  /** True when the provisioner chose the port, so it may choose another if binding fails. */
  portIsOurs: boolean;
  /** Its TLS port for other hosts (region hosts only), shown in health(). */
  tlsPort?: number;
  binary: () => Promise<string>;
  /** The config text for the current desired state and the given port. */
  renderConfig: (port: number) => string;
  /** A free port not used by any other process of this provisioner. */
  newPort: () => Promise<number>;
  /** Runs once the process answers, on every start (REPLICAOF for replicas), with the connection
   *  that saw it answer (the internal user's). */
  afterStart: (proc: SupervisedRedis, client: RedisConnection, kind: StartKind, wait: WaitOptions) => Promise<void>;
  onEvent: (health: ProcessHealth, message: string) => void;
  /** Called each time the process enters the running state. */
  onRunning?: (proc: SupervisedRedis) => Promise<void>;
}

/** How a process came to run: a start requested by ensure(), a restart by supervision after it
 *  died, or the adoption of one an earlier run of the server left running. */
export type StartKind = 'start' | 'restart' | 'adopt';

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exited with code ${code}`;
}

export class SupervisedRedis {
  state: ProcessState = 'stopped';
  restarts = 0;
  lastExit: string | null = null;
  port: number;
  private child: ChildProcess | null = null;
  private exitOfCurrent: string | null = null; // set when the current child exited
  private stopping = false;
  private launching = false;
  private crashTimes: number[] = [];
  private restartTimer: NodeJS.Timeout | null = null;
  private exitWaiters: (() => void)[] = [];
  private killedByUs: ChildProcess | null = null; // a start that failed: not a crash to report
  /** A redis-server started by an earlier run of the server and adopted by this one. */
  private adopted: number | null = null;
  private unwatchAdopted: (() => void) | null = null;

  constructor(readonly opts: SupervisedOptions) {
    this.port = opts.port;
  }

  get region(): string {
    return this.opts.region;
  }
  get role(): 'primary' | 'replica' {
    return this.opts.role;
  }
  get pid(): number | null {
    if (this.adopted !== null) return this.adopted;
    return this.child && this.exitOfCurrent === null ? (this.child.pid ?? null) : null;
  }
  get label(): string {
    return `${this.opts.role} in ${this.opts.region}`;
  }

  health(): ProcessHealth {
    return {
      region: this.opts.region,
      role: this.opts.role,
      port: this.port,
      pid: this.pid,
      state: this.state,
      restarts: this.restarts,
      lastExit: this.lastExit,
      ...(this.opts.tlsPort ? {tlsPort: this.opts.tlsPort} : {}),
    };
  }

  /** Starts the process (requested by ensure) and resolves once it is ready. */
  async start(): Promise<void> {
    this.stopping = false;
    this.crashTimes = [];
    this.clearRestartTimer();
    this.state = 'starting';
    try {
      await this.launch(true);
      this.state = 'running';
      await this.opts.onRunning?.(this).catch(() => undefined);
    } catch (err) {
      if (!this.stopping) this.state = 'failed';
      throw err;
    }
  }

  /**
   * Takes over `pid`, a redis-server an earlier run of the server started in this process's
   * folder (the caller checked the pidfile and the folder) that survived it: adopted when it
   * answers PING on this process's port as the internal user and INFO names `pid`, then runs the
   * same afterStart (REPLICAOF for a replica) and onRunning (limits) as a start. Not our child, so
   * its death is noticed by the shared pid watch (pid-watch.ts, every PID_WATCH_MS); supervision
   * then restarts it as usual.
   * Resolves false (having stopped `pid`) when it is not adoptable: the caller then start()s.
   */
  async adopt(pid: number): Promise<boolean> {
    this.stopping = false;
    this.state = 'starting';
    const wait: WaitOptions = {
      deadline: Date.now() + ADOPT_TIMEOUT_MS,
      abort: () => (pidAlive(pid) ? null : new ProcessStartError(`${this.label} (pid ${pid}) exited`)),
      describe: `${this.label} (port ${this.port}, pid ${pid})`,
    };
    let client: RedisConnection | null = null;
    try {
      client = await waitForPing(this.port, this.opts.internalSecret, pid, wait);
      this.adopted = pid;
      await this.opts.afterStart(this, client, 'adopt', wait);
    } catch {
      this.adopted = null;
      await terminate(pid, {timeoutMs: STOP_TIMEOUT_MS, repeatMs: SIGTERM_REPEAT_MS});
      this.state = 'stopped';
      return false;
    } finally {
      client?.close();
    }
    this.state = 'running';
    this.unwatchAdopted = adoptedWatch.add(pid, () => {
      this.forgetAdopted();
      this.lastExit = `exited at ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`;
      if (!this.stopping) this.onCrash('exited');
    });
    await this.opts.onRunning?.(this).catch(() => undefined);
    return true;
  }

  private forgetAdopted(): void {
    this.unwatchAdopted?.();
    this.unwatchAdopted = null;
    this.adopted = null;
  }

  /** SIGTERM (Redis flushes its AOF and exits), SIGKILL after a timeout. Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.clearRestartTimer();
    const adopted = this.adopted;
    if (adopted !== null) {
      this.forgetAdopted();
      // Adopted after an earlier run: the pid was checked then; it is still this folder's.
      await terminate(adopted, {timeoutMs: STOP_TIMEOUT_MS, repeatMs: SIGTERM_REPEAT_MS});
    }
    const child = this.child;
    if (child && this.exitOfCurrent === null) {
      const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
      child.kill('SIGTERM');
      // Redis ignores a shutdown request while it writes its first AOF (right after a replica's
      // sync, for instance) and does not retry it, so the request is repeated until it exits.
      const again = setInterval(() => child.kill('SIGTERM'), SIGTERM_REPEAT_MS);
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearInterval(again);
      clearTimeout(timer);
    }
    fs.rmSync(pidfilePath(this.opts.dir), {force: true});
    this.state = 'stopped';
  }

  private clearRestartTimer(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }

  private async launch(initial: boolean): Promise<void> {
    this.launching = true;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.launchOnce(initial ? 'start' : 'restart');
          return;
        } catch (err) {
          const retry = err instanceof ProcessStartError && err.portInUse && this.opts.portIsOurs;
          if (!retry || attempt >= MAX_PORT_ATTEMPTS) throw err;
          this.port = await this.opts.newPort();
        }
      }
    } finally {
      this.launching = false;
    }
  }

  private async launchOnce(kind: StartKind): Promise<void> {
    if (this.stopping) throw new ProcessStoppedError(this.label);
    const {dir} = this.opts;
    const binary = await this.opts.binary();
    const spawned = spawnRedis({binary, dir, config: this.opts.renderConfig(this.port)});
    const {child} = spawned;
    let spawnError: Error | null = null;
    child.on('error', (err) => {
      spawnError = (err as NodeJS.ErrnoException).code === 'ENOENT' ? new RedisServerMissingError(binary) : err;
      this.exitOfCurrent ??= 'failed to spawn';
    });
    this.child = child;
    this.exitOfCurrent = null;
    child.on('exit', (code, signal) => this.onExit(child, code, signal));

    const startupFailure = (): Error | null => {
      if (spawnError) return spawnError;
      if (this.stopping) return new ProcessStoppedError(this.label);
      if (this.exitOfCurrent === null || this.child !== child) return null;
      const {tail, portInUse} = startupOutput(dir, spawned);
      return new ProcessStartError(
        `${this.label} (port ${this.port}) ${this.exitOfCurrent} during start-up${tail ? `: ${tail}` : ''}`,
        portInUse,
      );
    };
    const wait: WaitOptions = {
      deadline: Date.now() + START_TIMEOUT_MS,
      abort: startupFailure,
      describe: `${this.label} (port ${this.port})`,
    };
    let client: RedisConnection | null = null;
    try {
      // Spawn failures (ENOENT) are reported asynchronously; give them a turn of the loop.
      await new Promise((r) => setImmediate(r));
      const early = startupFailure();
      if (early) throw early;
      client = await waitForPing(this.port, this.opts.internalSecret, child.pid!, wait);
      await this.opts.afterStart(this, client, kind, wait);
    } catch (err) {
      if (this.child === child && this.exitOfCurrent === null) {
        this.killedByUs = child;
        child.kill('SIGKILL');
        await new Promise<void>((resolve) => this.exitWaiters.push(resolve));
      }
      throw err;
    } finally {
      client?.close();
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    const how = describeExit(code, signal);
    this.exitOfCurrent = how;
    for (const resolve of this.exitWaiters.splice(0)) resolve();
    if (this.stopping || child === this.killedByUs) return;
    this.lastExit = `${how} at ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`;
    // During a start the launcher sees the exit and reports it; supervision is for processes
    // that were running.
    if (this.launching) return;
    this.onCrash(how);
  }

  private onCrash(how: string, restartFailure?: string): void {
    const what = restartFailure ? `${how}; restart failed (${restartFailure})` : how;
    const now = Date.now();
    this.crashTimes = this.crashTimes.filter((t) => now - t < CRASH_WINDOW_MS);
    this.crashTimes.push(now);
    if (this.crashTimes.length >= MAX_CRASHES_IN_WINDOW) {
      this.state = 'failed';
      this.opts.onEvent(
        this.health(),
        `${this.label} ${what}; gave up after ${this.crashTimes.length} crashes in ${CRASH_WINDOW_MS / 1000} s`,
      );
      return;
    }
    this.state = 'restarting';
    this.opts.onEvent(this.health(), `${this.label} ${what}, restarting`);
    const delay = Math.min(100 * 2 ** (this.crashTimes.length - 1), 2000);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      void this.restart(how);
    }, delay);
  }

  private async restart(how: string): Promise<void> {
    if (this.stopping) return;
    try {
      await this.launch(false);
    } catch (err) {
      if (this.stopping) return;
      this.onCrash(how, (err as Error).message);
      return;
    }
    this.restarts++;
    this.state = 'running';
    this.opts.onEvent(this.health(), `${this.label} ${how}, restarted`);
    await this.opts.onRunning?.(this).catch(() => undefined);
  }
}
