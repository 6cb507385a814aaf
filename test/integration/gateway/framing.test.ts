// The framer and the reply scanner must give the same result however TCP splits the bytes.
import {RequestParser} from '../../../src/gateway/resp';
import {ReplyScanner} from '../../../src/gateway/reply';

function frames(chunks: Buffer[], authenticated = true, maxRequestBytes = 0): string[] {
  const p = new RequestParser();
  p.authenticated = authenticated;
  p.maxRequestBytes = maxRequestBytes;
  const out: string[] = [];
  for (const c of chunks) {
    p.push(c);
    for (;;) {
      const r = p.next();
      if (r === 0) break;
      if (r < 0) {
        out.push(`error:${p.error}`);
        return out;
      }
      if (p.oversize > 0) out.push(`oversize:${p.oversize}`);
      else {
        const args: string[] = [];
        for (let i = 0; i < Math.min(p.frameArgc, 16); i++) args.push(p.argString(i));
        out.push(`${args.join(' ')}|${p.frameBytes().toString('latin1')}`);
      }
      p.advance();
    }
  }
  return out;
}

function splits(buf: Buffer): Buffer[][] {
  const ways: Buffer[][] = [[buf]];
  for (let i = 1; i < buf.length; i++) ways.push([buf.subarray(0, i), buf.subarray(i)]);
  ways.push([...buf].map((b) => Buffer.from([b])));
  return ways;
}

const PIPELINE = Buffer.from(
  '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nva\r\nl\r\n' + // value with CRLF inside
  'PING\r\n' + // inline
  '\r\n' + // empty inline line: ignored
  '*0\r\n' + // empty multibulk: ignored
  'SET "a b" \'c\'\r\n' +
  '*2\r\n$3\r\nGET\r\n$0\r\n\r\n',
);

test('request frames are found the same way for every split of the input', () => {
  const expected = frames([PIPELINE]);
  expect(expected).toEqual([
    'SET k va\r\nl|*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nva\r\nl\r\n',
    'PING|*1\r\n$4\r\nPING\r\n',
    'SET a b c|*3\r\n$3\r\nSET\r\n$3\r\na b\r\n$1\r\nc\r\n',
    'GET |*2\r\n$3\r\nGET\r\n$0\r\n\r\n',
  ]);
  for (const way of splits(PIPELINE)) expect(frames(way)).toEqual(expected);
});

test('an oversized request is measured and skipped without being held, for every split', () => {
  const big = Buffer.concat([Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$40\r\n'), Buffer.alloc(40, 120), Buffer.from('\r\n*1\r\n$4\r\nPING\r\n')]);
  const expected = frames([big], true, 30);
  expect(expected).toEqual(['oversize:67', 'PING|*1\r\n$4\r\nPING\r\n']);
  for (const way of splits(big)) expect(frames(way, true, 30)).toEqual(expected);
});

test('protocol errors are the same for every split', () => {
  for (const [input, err] of [
    ['*3000000000\r\n', 'Protocol error: invalid multibulk length'],
    ['*1\r\n$-2\r\n', 'Protocol error: invalid bulk length'],
    ['*1\r\n#4\r\n', "Protocol error: expected '$', got '#'"],
  ] as const) {
    for (const way of splits(Buffer.from(input))) expect(frames(way)).toEqual([`error:${err}`]);
  }
  for (const way of splits(Buffer.from('*11\r\n'))) expect(frames(way, false)).toEqual(['error:Protocol error: unauthenticated multibulk length']);
});

const REPLIES = Buffer.from(
  '+OK\r\n' +
  '-ERR x\r\n' +
  ':12\r\n' +
  '$5\r\nhe\r\nl\r\n' +
  '$-1\r\n' +
  '*2\r\n*1\r\n:1\r\n$1\r\na\r\n' +
  '*-1\r\n' +
  '*0\r\n' +
  '%2\r\n+a\r\n:1\r\n+b\r\n~1\r\n,1.5\r\n' + // RESP3 map holding a set
  '>3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n' + // push
  '_\r\n#t\r\n(123\r\n=8\r\ntxt:abcd\r\n!3\r\nERR\r\n' +
  '|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n', // attribute then its reply
);

function replies(chunks: Buffer[]): string[] {
  const s = new ReplyScanner();
  const out: string[] = [];
  let carry: Buffer | null = null;
  let cur = '';
  for (const c of chunks) {
    const data: Buffer = carry ? Buffer.concat([carry, c]) : c;
    carry = null;
    let p = 0;
    for (;;) {
      const e = s.scan(data, p);
      if (e < 0) {
        cur += data.toString('latin1', p, s.stopAt);
        if (s.stopAt < data.length) carry = data.subarray(s.stopAt);
        break;
      }
      out.push((s.push ? 'push:' : '') + cur + data.toString('latin1', p, e));
      cur = '';
      p = e;
    }
  }
  return out;
}

test('replies are delimited the same way for every split, RESP2 and RESP3', () => {
  const expected = replies([REPLIES]);
  expect(expected).toEqual([
    '+OK\r\n', '-ERR x\r\n', ':12\r\n', '$5\r\nhe\r\nl\r\n', '$-1\r\n', '*2\r\n*1\r\n:1\r\n$1\r\na\r\n', '*-1\r\n', '*0\r\n',
    '%2\r\n+a\r\n:1\r\n+b\r\n~1\r\n,1.5\r\n', 'push:>3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n', '_\r\n', '#t\r\n', '(123\r\n',
    '=8\r\ntxt:abcd\r\n', '!3\r\nERR\r\n', '|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n',
  ]);
  for (const way of splits(REPLIES)) expect(replies(way)).toEqual(expected);
});

test('frames are the same when each chunk is borrowed (its bytes overwritten once the parser returns)', () => {
  // The gateway reads plain connections into one shared buffer (src/net/borrowed-reads.ts): the
  // parser must keep a copy of whatever it has not consumed when the caller's turn ends.
  const borrowedFrames = (chunks: Buffer[]): string[] => {
    const p = new RequestParser();
    p.authenticated = true;
    const out: string[] = [];
    for (const c of chunks) {
      const lent = Buffer.from(c);
      p.push(lent, true);
      for (;;) {
        const r = p.next();
        if (r <= 0) break;
        const args: string[] = [];
        for (let i = 0; i < Math.min(p.frameArgc, 16); i++) args.push(p.argString(i));
        out.push(`${args.join(' ')}|${p.frameBytes().toString('latin1')}`);
        p.advance();
      }
      p.own();
      lent.fill(0x78); // the next read lands here
    }
    return out;
  };
  const expected = frames([PIPELINE]);
  for (const way of splits(PIPELINE)) expect(borrowedFrames(way)).toEqual(expected);
});
