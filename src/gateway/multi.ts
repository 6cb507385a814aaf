// Inside MULTI, the commands the gateway rewrites outside it (INFO, ROLE, ACL WHOAMI, CLIENT
// ID, CLIENT INFO) are queued on the backend like any other; their entries of the EXEC reply
// are rewritten by their position in the transaction, so a client sees the same answers
// inside and outside MULTI. Positions count every command queued since MULTI (state.ts).
import {clientLine, clientView, filterInfo, rewriteRole, rewriteText, verbatim} from './introspect';
import {ReplyScanner, bulk} from './reply';
import type {Session} from './session';

/** Remembers how the entry of the command being queued now is to be rewritten at EXEC; true
 *  when the command is one of those (it is then queued as usual). */
export function noteQueued(sn: Session, name: string): boolean {
  let fn: ((b: Buffer) => Buffer) | null = null;
  if (name === 'info') fn = (b) => rewriteText(b, filterInfo);
  else if (name === 'role') fn = rewriteRole;
  else if (name === 'acl|whoami') fn = (b) => (b[0] === 45 ? b : Buffer.from(bulk(sn.st.user, sn.st.proto)));
  else if (name === 'client|id') fn = (b) => (b[0] === 45 ? b : Buffer.from(`:${sn.id}\r\n`));
  else if (name === 'client|info') fn = (b) => (b[0] === 45 ? b : verbatim(`${clientLine(clientView(sn), Date.now())}\n`, sn.st.proto));
  if (fn === null) return false;
  if (sn.st.execRewrites === null) sn.st.execRewrites = new Map();
  sn.st.execRewrites.set(sn.st.queued, fn);
  return true;
}

/** The EXEC reply with the noted entries rewritten (anything but an array is left as is). */
export function rewriteExec(reply: Buffer, rewrites: Map<number, (b: Buffer) => Buffer>): Buffer {
  if (reply[0] !== 42) return reply; // '*'; nil (WATCH) and EXECABORT pass
  const nl = reply.indexOf(10);
  const n = Number(reply.toString('latin1', 1, nl - 1));
  if (!(n > 0)) return reply;
  const parts: Buffer[] = [reply.subarray(0, nl + 1)];
  let p = nl + 1;
  for (let i = 0; i < n; i++) {
    const end = new ReplyScanner().scan(reply, p);
    if (end < 0) return reply;
    const entry = reply.subarray(p, end);
    const fn = rewrites.get(i);
    parts.push(fn === undefined ? entry : fn(entry));
    p = end;
  }
  parts.push(reply.subarray(p));
  return Buffer.concat(parts);
}
