// Secrets at rest: the state folder is its owner's alone. Built-ins only (the CLI and the server
// both write into $REDFLY_HOME).
import {chmodSync, closeSync, existsSync, fsyncSync, lstatSync, openSync, readdirSync, renameSync, writeSync} from 'node:fs';
import {join} from 'node:path';

/** Writes `content` to `file` with mode 0600, through a temp file and a rename, so a crash never
 *  leaves half a file and the content is never readable by others, not even for a moment. */
export function writePrivate(file: string, content: string | Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, typeof content === 'string' ? Buffer.from(content) : content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600); // mode only applies to a new file; a stale temp file may be wider
  renameSync(tmp, file);
}

/**
 * Makes a state folder private: the folder and every folder under it 0700, every file 0600
 * (symbolic links are left alone). For a REDFLY_HOME made earlier with a wider mode, and for
 * files written before the server set its umask. Errors on single entries are ignored (a file
 * removed meanwhile); returns how many entries had their mode changed. The paths in `skip` (and
 * what is under them) are left alone.
 */
export function makePrivateTree(dir: string, skip: ReadonlySet<string> = new Set()): number {
  let changed = 0;
  const visit = (p: string): void => {
    if (skip.has(p)) return;
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    if (st.isSymbolicLink()) return;
    const want = st.isDirectory() ? 0o700 : 0o600;
    if ((st.mode & 0o777) !== want) {
      try {
        chmodSync(p, want);
        changed++;
      } catch {
        // not ours or gone
      }
    }
    if (st.isDirectory()) {
      let names: string[] = [];
      try {
        names = readdirSync(p);
      } catch {
        return;
      }
      for (const n of names) visit(join(p, n));
    }
  };
  visit(dir);
  return changed;
}

/**
 * makePrivateTree() for a REDFLY_HOME at every server start, cheap for a host with many
 * databases: the whole tree on the first start (and on any start of a home made by a version
 * without this marker), then everything but `skipAfterFirst` (the databases' process folders:
 * one folder and five files per process). What is under those is written by the server and its
 * redis-servers under PRIVATE_UMASK after the first pass, so it stays private. `marker` records
 * that the first pass was made. Returns how many entries had their mode changed.
 */
export function makePrivateHome(home: string, marker: string, skipAfterFirst: string[]): number {
  if (!existsSync(marker)) {
    const changed = makePrivateTree(home);
    writePrivate(marker, 'every file under this folder was made private once; see src/lib/private-files.ts\n');
    return changed;
  }
  return makePrivateTree(home, new Set(skipAfterFirst));
}

/** The umask for a process that writes secrets: nothing for group or others. Child processes
 *  (redis-server: AOF, logs, pidfiles) inherit it. */
export const PRIVATE_UMASK = 0o077;
