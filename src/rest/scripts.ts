// Scripts written for the hosted service's dialect. @upstash/ratelimit (2.2) starts its Lua with
// `#!lua flags=allow-key-locking`, a flag only the hosted service knows: Redis refuses the script
// ("ERR Unexpected flag in script shebang"). The flag only tells that server it may lock just the
// script's keys, so dropping it changes nothing for Redis, which runs scripts one at a time.
// Redis names a script by the SHA1 of its text, so the SHA1 of the text as the client wrote it is
// mapped to the SHA1 of the text Redis ran: EVALSHA with the client's own hash (what ratelimit
// sends first) finds the script once EVAL or SCRIPT LOAD brought it in.
import {createHash} from 'node:crypto';

const UNKNOWN_FLAGS = new Set(['allow-key-locking']);
const MAX_MAPPED = 10_000;
const shaMap = new Map<string, string>();

const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('hex');

/** The script without the flags Redis does not know, or null when there is nothing to drop. */
export function adaptScript(script: Buffer): Buffer | null {
  if (script.length < 6 || script.toString('latin1', 0, 5) !== '#!lua') return null;
  let eol = script.indexOf(10);
  if (eol < 0) eol = script.length;
  const line = script.toString('utf8', 0, eol);
  const m = /^(#!lua[^\n]*?\bflags=)(\S*)([\s\S]*)$/.exec(line);
  if (m === null) return null;
  const flags = m[2].split(',').filter((f) => f !== '');
  const kept = flags.filter((f) => !UNKNOWN_FLAGS.has(f));
  if (kept.length === flags.length) return null;
  const head = kept.length > 0 ? `${m[1]}${kept.join(',')}${m[3]}` : `${m[1].replace(/\s*flags=$/, '')}${m[3]}`;
  return Buffer.concat([Buffer.from(head, 'utf8'), script.subarray(eol)]);
}

/** Rewrites one command in place when it carries such a script (EVAL, EVAL_RO, SCRIPT LOAD) or
 *  names one by the client's hash (EVALSHA, EVALSHA_RO). */
export function adaptScriptCommand(args: Buffer[]): void {
  if (args.length < 2) return;
  const name = args[0].toString('latin1').toLowerCase();
  let at = -1;
  if (name === 'eval' || name === 'eval_ro') at = 1;
  else if (name === 'script' && args.length >= 3 && args[1].toString('latin1').toLowerCase() === 'load') at = 2;
  else if (name === 'evalsha' || name === 'evalsha_ro') {
    const mapped = shaMap.get(args[1].toString('latin1').toLowerCase());
    if (mapped !== undefined) args[1] = Buffer.from(mapped);
    return;
  }
  if (at < 0) return;
  const adapted = adaptScript(args[at]);
  if (adapted === null) return;
  if (shaMap.size >= MAX_MAPPED) shaMap.clear();
  shaMap.set(sha1(args[at]), sha1(adapted));
  args[at] = adapted;
}
