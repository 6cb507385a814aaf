// Progress on stderr while waiting for the API. Animated on a terminal; one plain line when
// piped, so logs stay readable. (oclif's ux.action binds the streams at import, which keeps
// its output away from anything that wraps process.stderr afterwards.)
const FRAMES = ['|', '/', '-', '\\'];

export interface Spinner {
  stop(status: string): void;
}

export function startSpinner(text: string): Spinner {
  const err = process.stderr;
  if (!err.isTTY) {
    err.write(`${text}...`);
    return {stop: (status) => err.write(` ${status}\n`)};
  }
  let frame = 0;
  const draw = () => err.write(`\r${FRAMES[frame++ % FRAMES.length]} ${text}...`);
  draw();
  const timer = setInterval(draw, 100);
  timer.unref();
  return {
    stop(status) {
      clearInterval(timer);
      err.write(`\r\u001B[2K${text}... ${status}\n`);
    },
  };
}

/** Runs `work` behind a spinner (when `show`), which ends with `done` or, if `work` throws, with
 *  "failed", so an error message never lands on the spinner's line. */
export async function withSpinner<T>(text: string, show: boolean, done: string, work: () => Promise<T>): Promise<T> {
  const spinner = show ? startSpinner(text) : undefined;
  try {
    const result = await work();
    spinner?.stop(done);
    return result;
  } catch (error) {
    spinner?.stop('failed');
    throw error;
  }
}
