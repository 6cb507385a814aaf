// Opening a URL in the user's browser, when there is one: $BROWSER, else the desktop's opener
// (xdg-open on Linux with a display, open on macOS, start on Windows). Never waits for it.
import {spawn} from 'node:child_process';

/** Starts the browser on `url` and returns true, or false when there is no browser to start. */
export function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env, platform = process.platform): boolean {
  let cmd: string;
  let args: string[];
  if (env.BROWSER) {
    [cmd, ...args] = [env.BROWSER, url];
  } else if (platform === 'darwin') {
    [cmd, args] = ['open', [url]];
  } else if (platform === 'win32') {
    [cmd, args] = ['cmd', ['/c', 'start', '""', url]];
  } else if (env.DISPLAY || env.WAYLAND_DISPLAY) {
    [cmd, args] = ['xdg-open', [url]];
  } else {
    return false; // a server or a container: print the link only
  }
  try {
    const child = spawn(cmd, args, {stdio: 'ignore', detached: true});
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}
