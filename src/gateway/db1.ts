// The regional cache's database 1: after SELECT 1 every command goes, one at a time and in
// order, to the cache's virtual database (src/cache), which answers it (+OK and a replay, or an
// error) before the next command of the connection is looked at.
import {parseIntAt} from './resp';
import {errorReply} from './reply';
import type {Session} from './session';
import {W_ASYNC} from './state';
import {VirtualDbResult} from './types';

export function virtualCommand(sn: Session): boolean {
  const p = sn.parser;
  if (!sn.quiet()) return false;
  const ts = sn.st.ts!;
  const err = ts.dailyLimitError();
  if (err !== null) {
    sn.fail(err);
    return true;
  }
  if (!sn.admit()) return false;
  const tenant = ts.tenant;
  if (tenant.kind !== 'cache') return true;
  const args = allArgs(p.frameBytes());
  let result: VirtualDbResult | Promise<VirtualDbResult>;
  try {
    result = tenant.virtualDb.accept(args, {region: sn.region, tenant});
  } catch (e) {
    sn.write(errorReply(`ERR ${(e as Error).message}`));
    return true;
  }
  if (!(result instanceof Promise)) {
    virtualReply(sn, result);
    return true;
  }
  sn.blocked |= W_ASYNC;
  result.then(
    (r) => virtualReply(sn, r),
    (e: Error) => sn.write(errorReply(`ERR ${e.message}`)),
  ).finally(() => {
    sn.blocked &= ~W_ASYNC;
    sn.process();
  });
  return true;
}

export function virtualReply(sn: Session, r: VirtualDbResult): void {
  if ('connection' in r) {
    // Not expected for the commands passed in (the gateway keeps AUTH/HELLO/QUIT/RESET).
    sn.write(errorReply('ERR unexpected connection command'));
    return;
  }
  if (r.select !== undefined) sn.st.db = r.select;
  sn.write(r.reply);
}

/** Every argument of one RESP request frame (copies: the virtual database may keep them). */
export function allArgs(frame: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let p = frame.indexOf(13);
  const n = parseIntAt(frame, 1, p);
  p += 2;
  for (let i = 0; i < n; i++) {
    const cr = frame.indexOf(13, p);
    const len = parseIntAt(frame, p + 1, cr);
    const s = cr + 2;
    out.push(Buffer.from(frame.subarray(s, s + len)));
    p = s + len + 2;
  }
  return out;
}
