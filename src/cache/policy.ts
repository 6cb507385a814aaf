// What database 1 accepts, and the deterministic form in which an accepted command is logged.
// Everything that can fail is decided here, before the client gets +OK, because a replay error
// can no longer be reported to it. Like Redis's own replication, commands whose effect depends
// on the moment or the server they run on are rewritten (relative expirations become absolute,
// XADD '*' gets an explicit ID) or refused (SPOP's random choice).
import {CommandTable, CommandSpec, arityError} from './commands';
import {CACHE_UNSUPPORTED, cacheOwnRefusal} from '../redis/refusals';

// Refusals shared with the gateway and managed databases: src/redis/refusals.ts (one policy).
export {CACHE_UNSUPPORTED};

const db1Refusal = (name: string, why: string): string =>
  `ERR Command is not available in database 1: '${name.toUpperCase()}' (${why})`;

// Database-1-only refusals: write commands whose effect would differ from region to region.
const NON_DETERMINISTIC: Record<string, string> = {
  spop: 'it removes random members, which would differ between regions; use SREM',
  xclaim: "it depends on each region's consumer-group idle times",
  xautoclaim: "it depends on each region's consumer-group idle times",
  xreadgroup: "consumer-group deliveries are recorded with each region's clock",
  migrate: 'it moves keys to another server',
  // Relative hash-field expirations (Redis 7.4+) are not rewritten to absolute ones here.
  hexpire: 'relative hash-field expirations are not supported; use HPEXPIREAT',
  hpexpire: 'relative hash-field expirations are not supported; use HPEXPIREAT',
  hsetex: 'relative hash-field expirations are not supported; use HPEXPIREAT',
  hgetex: 'relative hash-field expirations are not supported; use HPEXPIREAT',
};

// Neither reads nor writes, and meaningless to acknowledge without running them.
const NOT_IN_DB1: Record<string, string> = {
  watch: 'transactions are not available',
  unwatch: 'transactions are not available',
  fcall: 'scripts are not available',
  fcall_ro: 'scripts are not available',
  function: 'scripts are not available',
};

export type Prepared =
  // log it, answer +OK; an XADD's ID argument is at `xaddIdIndex` ('*': the log picks the ID)
  | {kind: 'replay'; name: string; args: Buffer[]; xaddIdIndex?: number}
  | {kind: 'ack'} // +OK, nothing to replay (a read has no effect in any region)
  | {kind: 'pong'; message: Buffer | null} // PING
  | {kind: 'echo'; message: Buffer}
  | {kind: 'select'; db: 0 | 1}
  | {kind: 'connection'} // AUTH, HELLO, QUIT, RESET: the connection layer answers as in db 0
  | {kind: 'error'; message: string};

export interface PolicyContext {
  table: CommandTable;
  now: number; // accept time, ms since the epoch
  maxCommandBytes: number;
}

const CONNECTION = new Set(['auth', 'hello', 'quit', 'reset']);

export function commandBytes(args: ReadonlyArray<Buffer>): number {
  let n = 0;
  for (const a of args) n += a.length;
  return n;
}

export function prepareDb1(args: Buffer[], ctx: PolicyContext): Prepared {
  if (args.length === 0) return {kind: 'error', message: 'ERR empty command'};
  const size = commandBytes(args);
  if (size > ctx.maxCommandBytes) {
    return {kind: 'error', message: `ERR max request size exceeded. Limit: ${ctx.maxCommandBytes} bytes, Actual: ${size} bytes`};
  }
  const name = args[0].toString('utf8');
  const lower = name.toLowerCase();
  if (CONNECTION.has(lower)) return {kind: 'connection'};
  const entry = ctx.table.get(lower);
  const refused = entry === undefined ? null : cacheOwnRefusal(entry);
  if (refused) return {kind: 'error', message: refused};
  const found = ctx.table.lookup(args);
  if (!found.ok) return {kind: 'error', message: found.error};
  const spec = found.spec;

  if (lower === 'select') return select(args[1]);
  if (lower === 'ping') return args.length > 2 ? {kind: 'error', message: arityError('ping')} : {kind: 'pong', message: args[1] ?? null};
  if (lower === 'echo') return {kind: 'echo', message: args[1]};
  if (NON_DETERMINISTIC[lower]) return {kind: 'error', message: db1Refusal(name, NON_DETERMINISTIC[lower])};

  if (spec.flags.has('admin')) return {kind: 'error', message: db1Refusal(name, 'server management is not available')};
  if (spec.flags.has('pubsub')) return {kind: 'error', message: db1Refusal(name, 'Pub/Sub is not available')};
  if (NOT_IN_DB1[lower]) return {kind: 'error', message: db1Refusal(name, NOT_IN_DB1[lower])};
  const isWrite = spec.flags.has('write');
  if (!isWrite) {
    // Reads and introspection (INFO, which clients send while connecting) are acknowledged like
    // any well-formed command, as Fly's database 1 did; they change nothing, so nothing is logged.
    return {kind: 'ack'};
  }
  if (lower === 'xadd') {
    const at = xaddIdIndex(args);
    return typeof at === 'string' ? {kind: 'error', message: at} : {kind: 'replay', name: lower, args, xaddIdIndex: at};
  }
  const rewrite = REWRITES[lower];
  const out = rewrite ? rewrite(args, ctx, spec) : validateGeneric(lower, args);
  if (typeof out === 'string') return {kind: 'error', message: out};
  return {kind: 'replay', name: lower, args: out};
}

function select(arg: Buffer): Prepared {
  const text = arg.toString('utf8');
  if (!INT_RE.test(text)) return {kind: 'error', message: 'ERR value is not an integer or out of range'};
  if (text === '0') return {kind: 'select', db: 0};
  if (text === '1') return {kind: 'select', db: 1};
  return {kind: 'error', message: 'ERR DB index is out of range'};
}

// ---- number parsing with Redis's strictness (no spaces, no '+', no leading zeros) ----

const INT_RE = /^(0|-?[1-9][0-9]*)$/;
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
const FLOAT_RE = /^[+-]?((\d+\.?\d*)|(\.\d+))([eE][+-]?\d+)?$|^[+-]?inf(inity)?$/i;
const NOT_INT = 'ERR value is not an integer or out of range';
const SYNTAX = 'ERR syntax error';

function parseInt64(b: Buffer | undefined): bigint | null {
  if (!b) return null;
  const s = b.toString('utf8');
  if (!INT_RE.test(s)) return null;
  const v = BigInt(s);
  return v > INT64_MAX || v < INT64_MIN ? null : v;
}

const isFloat = (b: Buffer | undefined): boolean => !!b && FLOAT_RE.test(b.toString('utf8'));
const word = (b: Buffer | undefined): string => (b ? b.toString('utf8').toLowerCase() : '');
const buf = (s: string | bigint | number): Buffer => Buffer.from(String(s));

/** now + rel (in ms), or null when Redis would call it an invalid expire time (overflow). */
function absoluteMs(now: number, relMs: bigint): bigint | null {
  const abs = BigInt(now) + relMs;
  return abs > INT64_MAX || abs < INT64_MIN ? null : abs;
}

type Rewrite = (args: Buffer[], ctx: PolicyContext, spec: CommandSpec) => Buffer[] | string;

// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
function rewriteSet(args: Buffer[], ctx: PolicyContext): Buffer[] | string {
  const out = [args[0], args[1], args[2]];
  let cond = '';
  let expire = '';
  let get = false;
  for (let i = 3; i < args.length; i++) {
    const opt = word(args[i]);
    if (opt === 'nx' || opt === 'xx') {
      if (cond) return SYNTAX;
      cond = opt;
      out.push(args[i]);
    } else if (opt === 'get') {
      if (get) return SYNTAX;
      get = true;
      out.push(args[i]);
    } else if (opt === 'keepttl') {
      if (expire) return SYNTAX;
      expire = opt;
      out.push(args[i]);
    } else if (opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat') {
      if (expire || i + 1 >= args.length) return SYNTAX;
      expire = opt;
      const v = parseInt64(args[++i]);
      if (v === null) return NOT_INT;
      if (v <= 0n) return "ERR invalid expire time in 'set' command";
      const ms = opt === 'ex' || opt === 'exat' ? v * 1000n : v;
      const abs = opt === 'ex' || opt === 'px' ? absoluteMs(ctx.now, ms) : ms;
      if (abs === null || abs > INT64_MAX) return "ERR invalid expire time in 'set' command";
      out.push(buf('PXAT'), buf(abs));
    } else {
      return SYNTAX;
    }
  }
  return out;
}

function rewriteSetex(args: Buffer[], ctx: PolicyContext, spec: CommandSpec): Buffer[] | string {
  const v = parseInt64(args[2]);
  if (v === null) return NOT_INT;
  const invalid = `ERR invalid expire time in '${spec.name}' command`;
  if (v <= 0n) return invalid;
  const abs = absoluteMs(ctx.now, spec.name === 'setex' ? v * 1000n : v);
  if (abs === null) return invalid;
  return [buf('SET'), args[1], args[3], buf('PXAT'), buf(abs)];
}

// GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]
function rewriteGetex(args: Buffer[], ctx: PolicyContext): Buffer[] | string {
  const out = [args[0], args[1]];
  let seen = false;
  for (let i = 2; i < args.length; i++) {
    const opt = word(args[i]);
    if (seen) return SYNTAX;
    seen = true;
    if (opt === 'persist') {
      out.push(args[i]);
    } else if (opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat') {
      if (i + 1 >= args.length) return SYNTAX;
      const v = parseInt64(args[++i]);
      if (v === null) return NOT_INT;
      if (v <= 0n) return "ERR invalid expire time in 'getex' command";
      const ms = opt === 'ex' || opt === 'exat' ? v * 1000n : v;
      const abs = opt === 'ex' || opt === 'px' ? absoluteMs(ctx.now, ms) : ms;
      if (abs === null || abs > INT64_MAX) return "ERR invalid expire time in 'getex' command";
      out.push(buf('PXAT'), buf(abs));
    } else {
      return SYNTAX;
    }
  }
  return out;
}

function expireFlags(args: Buffer[], from: number): string | null {
  let nx = false, xx = false, gt = false, lt = false;
  for (let i = from; i < args.length; i++) {
    const opt = word(args[i]);
    if (opt === 'nx') nx = true;
    else if (opt === 'xx') xx = true;
    else if (opt === 'gt') gt = true;
    else if (opt === 'lt') lt = true;
    else return `ERR Unsupported option ${args[i].toString('utf8')}`;
  }
  if (nx && (xx || gt || lt)) return 'ERR NX and XX, GT or LT options at the same time are not compatible';
  if (gt && lt) return 'ERR GT and LT options at the same time are not compatible';
  return null;
}

// EXPIRE/PEXPIRE key n [flags] -> PEXPIREAT key now+n [flags]; *AT forms are kept as they are.
function rewriteExpire(args: Buffer[], ctx: PolicyContext, spec: CommandSpec): Buffer[] | string {
  const v = parseInt64(args[2]);
  if (v === null) return NOT_INT;
  const flagError = expireFlags(args, 3);
  if (flagError) return flagError;
  const name = spec.name;
  const ms = name === 'expire' || name === 'expireat' ? v * 1000n : v;
  if (ms > INT64_MAX || ms < INT64_MIN) return `ERR invalid expire time in '${name}' command`;
  if (name === 'expireat' || name === 'pexpireat') return args;
  const abs = absoluteMs(ctx.now, ms);
  if (abs === null) return `ERR invalid expire time in '${name}' command`;
  return [buf('PEXPIREAT'), args[1], buf(abs), ...args.slice(3)];
}

// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]
function rewriteRestore(args: Buffer[], ctx: PolicyContext): Buffer[] | string {
  const ttl = parseInt64(args[2]);
  if (ttl === null) return NOT_INT;
  if (ttl < 0n) return 'ERR Invalid TTL value, must be >= 0';
  let absttl = false;
  const rest: Buffer[] = [];
  for (let i = 4; i < args.length; i++) {
    const opt = word(args[i]);
    if (opt === 'replace') rest.push(args[i]);
    else if (opt === 'absttl') absttl = true;
    else if ((opt === 'idletime' || opt === 'freq') && i + 1 < args.length) {
      const v = parseInt64(args[i + 1]);
      if (v === null) return NOT_INT;
      if (opt === 'idletime' && v < 0n) return 'ERR Invalid IDLETIME value, must be >= 0';
      if (opt === 'freq' && (v < 0n || v > 255n)) return 'ERR Invalid FREQ value, must be >= 0 and <= 255';
      rest.push(args[i], args[++i]);
    } else return SYNTAX;
  }
  let abs = ttl;
  if (ttl > 0n && !absttl) {
    const a = absoluteMs(ctx.now, ttl);
    if (a === null) return "ERR invalid expire time in 'restore' command";
    abs = a;
  }
  return [args[0], args[1], buf(abs), args[3], ...rest, ...(ttl > 0n ? [buf('ABSTTL')] : [])];
}

const STREAM_ID_RE = /^\d+(-(\d+|\*))?$/;

// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value ...
// Validated here; the position of its ID is returned, and the log turns '*' into an explicit ID
// in its append transaction (src/cache/stream-ids.ts), where the order between hosts is decided.
function xaddIdIndex(args: Buffer[]): number | string {
  let i = 2;
  for (;;) {
    const opt = word(args[i]);
    if (opt === 'nomkstream') {
      i++;
    } else if (opt === 'maxlen' || opt === 'minid') {
      i++;
      if (word(args[i]) === '=' || word(args[i]) === '~') i++;
      if (i >= args.length) return SYNTAX;
      if (opt === 'maxlen') {
        const v = parseInt64(args[i]);
        if (v === null) return NOT_INT;
        if (v < 0n) return 'ERR The MAXLEN argument must be >= 0.';
      } else if (!STREAM_ID_RE.test(args[i].toString('utf8'))) {
        return 'ERR Invalid stream ID specified as stream command argument';
      }
      i++;
      if (word(args[i]) === 'limit') {
        const v = parseInt64(args[i + 1]);
        if (v === null) return NOT_INT;
        if (v < 0n) return 'ERR The LIMIT argument must be >= 0.';
        i += 2;
      }
    } else break;
  }
  if (i >= args.length) return SYNTAX;
  const fields = args.length - i - 1;
  if (fields < 2 || fields % 2 === 1) return arityError('xadd');
  const id = args[i].toString('utf8');
  if (id === '*') return i;
  if (!STREAM_ID_RE.test(id)) return 'ERR Invalid stream ID specified as stream command argument';
  if (/^0+(-0+)?$/.test(id)) return 'ERR The ID specified in XADD must be greater than 0-0';
  return i;
}

// COPY src dst [DB n] [REPLACE]: another database would reach past the replayed database 0.
function validateCopy(args: Buffer[]): Buffer[] | string {
  for (let i = 3; i < args.length; i++) {
    const opt = word(args[i]);
    if (opt === 'db') return db1Refusal('copy', 'only database 0 is replayed; COPY ... DB is refused');
    if (opt !== 'replace') return SYNTAX;
  }
  return args;
}

// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
function validateZadd(args: Buffer[]): Buffer[] | string {
  let i = 2;
  const seen = new Set<string>();
  for (; i < args.length; i++) {
    const opt = word(args[i]);
    if (['nx', 'xx', 'gt', 'lt', 'ch', 'incr'].includes(opt)) seen.add(opt);
    else break;
  }
  const pairs = args.length - i;
  if (pairs === 0 || pairs % 2 === 1) return SYNTAX;
  if (seen.has('nx') && seen.has('xx')) return 'ERR XX and NX options at the same time are not compatible';
  if ((seen.has('gt') && seen.has('nx')) || (seen.has('lt') && seen.has('nx')) || (seen.has('gt') && seen.has('lt'))) {
    return 'ERR GT, LT, and/or NX options at the same time are not compatible';
  }
  if (seen.has('incr') && pairs > 2) return 'ERR INCR option supports a single increment-element pair';
  for (let j = i; j < args.length; j += 2) if (!isFloat(args[j])) return 'ERR value is not a valid float';
  return args;
}

// Numeric arguments of common write commands, checked so that a typo is an error the client
// sees, not a silent failure in every region.
const INT_ARGS: Record<string, number[]> = {
  incrby: [2], decrby: [2], hincrby: [3], setrange: [2], lset: [2], ltrim: [2, 3], lrem: [2],
  setbit: [2], expireat: [2], pexpireat: [2],
};
const FLOAT_ARGS: Record<string, number[]> = {incrbyfloat: [2], hincrbyfloat: [3], zincrby: [2]};
// Commands taking field/value (or key/value) pairs from this argument on: an odd count passes the
// arity check of the command table but fails in Redis.
const PAIRS_FROM: Record<string, number> = {hset: 2, hmset: 2, mset: 1, msetnx: 1};
const BLOCKING_TIMEOUT_LAST = new Set(['blpop', 'brpop', 'brpoplpush', 'blmove', 'bzpopmin', 'bzpopmax']);

function validateGeneric(lower: string, args: Buffer[]): Buffer[] | string {
  const pairsFrom = PAIRS_FROM[lower];
  if (pairsFrom !== undefined && (args.length - pairsFrom) % 2 === 1) return arityError(lower);
  for (const i of INT_ARGS[lower] ?? []) if (parseInt64(args[i]) === null) return NOT_INT;
  for (const i of FLOAT_ARGS[lower] ?? []) if (!isFloat(args[i])) return 'ERR value is not a valid float';
  if (lower === 'setrange' && (parseInt64(args[2]) ?? 0n) < 0n) return 'ERR offset is out of range';
  if (lower === 'setbit') {
    if ((parseInt64(args[2]) ?? -1n) < 0n) return 'ERR bit offset is not an integer or out of range';
    const bit = args[3].toString('utf8');
    if (bit !== '0' && bit !== '1') return 'ERR bit is not an integer or out of range';
  }
  if ((lower === 'lpop' || lower === 'rpop') && args.length === 3) {
    const v = parseInt64(args[2]);
    if (v === null || v < 0n) return 'ERR value is out of range, must be positive';
  }
  if (lower === 'linsert' && !['before', 'after'].includes(word(args[2]))) return SYNTAX;
  if (BLOCKING_TIMEOUT_LAST.has(lower)) {
    const t = args[args.length - 1];
    if (!isFloat(t)) return 'ERR timeout is not a float or out of range';
    if (t.toString('utf8').startsWith('-')) return 'ERR timeout is negative';
  }
  if (lower === 'flushall' && (args.length > 2 || (args.length === 2 && !['async', 'sync'].includes(word(args[1]))))) {
    return SYNTAX;
  }
  if (lower === 'zadd') return validateZadd(args);
  if (lower === 'copy') return validateCopy(args);
  return args;
}

const REWRITES: Record<string, Rewrite> = {
  set: rewriteSet,
  setex: rewriteSetex,
  psetex: rewriteSetex,
  getex: rewriteGetex,
  expire: rewriteExpire,
  pexpire: rewriteExpire,
  expireat: rewriteExpire,
  pexpireat: rewriteExpire,
  restore: rewriteRestore,
};
