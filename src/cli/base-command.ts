// The one base of every redfly command: global flags, --json, the API client, the prompt rule and
// the mapping of every failure to a message, a code, a hint and an exit code.
import {Command, Errors, Flags, Interfaces} from '@oclif/core';
import type {RedflyClient} from '../api/client';
import {bin, setBin} from './bin';
import {retryCommand} from './errors';
import {describeFailure, type Failure} from './failures';
import {isInteractive, stdoutIsStyled} from './terminal';
import type {Target} from './credentials';

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>;
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static enableJsonFlag = true;

  static baseFlags = {
    'api-url': Flags.string({
      summary: 'URL of the redfly API (default: the local server)',
      env: 'REDFLY_API_URL',
      helpGroup: 'GLOBAL',
    }),
    'access-token': Flags.string({
      char: 't',
      summary: 'API access token',
      env: 'REDFLY_ACCESS_TOKEN',
      helpGroup: 'GLOBAL',
    }),
  };

  protected flags!: CommandFlags<T>;
  protected args!: CommandArgs<T>;
  private client?: RedflyClient;
  private target?: Target;

  public async init(): Promise<void> {
    await super.init();
    setBin(this.config.bin);
    const {args, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as CommandFlags<T>;
    this.args = args as CommandArgs<T>;
  }

  /** May we ask the user anything? Only a person at a terminal, outside CI, without --json. */
  protected canPrompt(): boolean {
    return !this.jsonEnabled() && isInteractive();
  }

  /** Where requests go, resolved once (this may start the local server). */
  protected async resolveTarget(): Promise<Target> {
    if (!this.target) {
      const {resolveTarget} = await import('./credentials');
      this.target = await resolveTarget({
        apiUrl: this.flags['api-url'],
        token: this.flags['access-token'],
        notice: (line) => process.stderr.write(`${line}\n`),
      });
    }
    return this.target;
  }

  /** The API client, built on first use. */
  protected async api(): Promise<RedflyClient> {
    if (!this.client) {
      const target = await this.resolveTarget();
      const {RedflyClient} = await import('../api/client');
      this.client = new RedflyClient({
        apiUrl: target.apiUrl,
        token: target.token,
        caFile: target.caFile,
        userAgent: this.config.userAgent,
      });
    }
    return this.client;
  }

  /**
   * One JSON document on stdout. oclif colourizes it token by token even when piped (several ms
   * for a list); plain JSON is what a script reads, so colour is kept for terminals only.
   */
  public logJson(json: unknown): void {
    if (stdoutIsStyled()) super.logJson(json);
    else process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  }

  /**
   * The command as the user typed it, plus `additions` (the inputs it lacked): the "Try this" line
   * of a missing-input error keeps every flag given.
   */
  protected retryWith(additions: string[]): string {
    return retryCommand(bin(), this.id ?? '', this.argv, additions);
  }

  /** Notes for a person (stderr), silent with --json. */
  protected note(message: string): void {
    this.logToStderr(message);
  }

  public async finally(error: Error | undefined): Promise<void> {
    // Requests started in parallel with one that failed must not outlive the command.
    this.client?.close();
    await super.finally(error);
  }

  public async catch(error: Error & {oclif?: {exit?: number}; code?: unknown}): Promise<void> {
    // this.exit(n) is not a failure: let oclif end the process with that code.
    if (error.code === 'EEXIT') throw error;
    const failure: Failure = describeFailure(error, this.target?.source);
    // oclif/core#1423: with --json oclif would otherwise exit 1 whatever the error said.
    process.exitCode = failure.exit;
    if (failure.aborted) {
      process.stderr.write('Aborted.\n');
      this.exit(130);
    }
    if (this.jsonEnabled()) {
      this.logJson({error: {code: failure.code, message: failure.message}});
      return;
    }
    throw new Errors.CLIError(failure.message, {
      code: failure.code,
      exit: failure.exit,
      suggestions: failure.suggestions,
    });
  }
}
