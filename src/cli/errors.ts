// Errors the CLI raises itself (as opposed to the API's). Exit code 2 = usage or validation.
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(
    message: string,
    readonly code = 'invalid_usage',
    readonly suggestions: string[] = [],
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Not interactive and inputs are missing: name every one of them in one go. */
export function missingFlagsError(flags: string[], example?: string): UsageError {
  const list = flags.join(', ');
  return new UsageError(
    `Missing ${flags.length === 1 ? 'flag' : 'flags'} ${list} (not running interactively, so nothing can be asked)`,
    'missing_flags',
    example ? [example] : [],
  );
}

/**
 * The command the user ran, again, with `additions` after what they typed: a "Try this" line that
 * keeps every flag and argument given (shell-quoted where needed), so only the missing part is new.
 * `id` is oclif's command id ("redis:create").
 */
export function retryCommand(binName: string, id: string, argv: readonly string[], additions: readonly string[]): string {
  return [binName, ...id.split(':'), ...argv.map(shellQuote), ...additions].join(' ');
}

/** A word as a POSIX shell reads it back unchanged. */
export function shellQuote(word: string): string {
  return /^[\w./:=@,+%-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A failure that is not the user's input and not the API's: exit 1 with a hint. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly suggestions: string[] = [],
  ) {
    super(message);
    this.name = 'CliFailure';
  }
}
