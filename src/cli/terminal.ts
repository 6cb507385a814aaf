// Facts about the terminal the CLI runs in, in one place so that tests can replace them.

/** A person is there to answer prompts: both ends are terminals and no CI says otherwise. */
export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY) && !ciIsSet();
}

function ciIsSet(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/** Colour and box-drawing only for a person looking at a terminal that accepts them. */
export function stdoutIsStyled(): boolean {
  return Boolean(process.stdout.isTTY) && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';
}

/** Width to fit tables to; undefined when piped (a file has no width). */
export function terminalWidth(): number | undefined {
  return process.stdout.isTTY ? process.stdout.columns || 80 : undefined;
}
