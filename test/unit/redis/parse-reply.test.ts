// parseReply's short path for +OK and +QUEUED (an applier's MULTI/EXEC batch gets one of each
// per command) must give what the general path gives, and wait for a reply cut in two.
import {parseReply, ReplyError} from '../../../src/redis/client';

const b = (s: string) => Buffer.from(s, 'latin1');

test('+OK and +QUEUED, alone, in a stream and inside an array', () => {
  expect(parseReply(b('+OK\r\n'), 0)).toEqual({value: 'OK', end: 5});
  expect(parseReply(b('+QUEUED\r\n'), 0)).toEqual({value: 'QUEUED', end: 9});
  const stream = b('+OK\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n-WRONGTYPE no\r\n:1\r\n');
  const values = [];
  for (let pos = 0, p = parseReply(stream, 0); p; p = parseReply(stream, pos)) {
    values.push(p.value);
    pos = p.end;
  }
  expect(values).toEqual(['OK', 'QUEUED', 'QUEUED', ['OK', new ReplyError('WRONGTYPE no'), 1]]);
});

test('other simple strings starting like them take the general path', () => {
  expect(parseReply(b('+OKAY\r\n'), 0)).toEqual({value: 'OKAY', end: 7});
  expect(parseReply(b('+QUEUEDX\r\n'), 0)).toEqual({value: 'QUEUEDX', end: 10});
  expect(parseReply(b('+QUEUES\r\n'), 0)).toEqual({value: 'QUEUES', end: 9});
  expect(parseReply(b('+O\r\n'), 0)).toEqual({value: 'O', end: 4});
});

test('a reply cut anywhere waits for the rest', () => {
  for (const whole of ['+OK\r\n', '+QUEUED\r\n']) {
    for (let cut = 1; cut < whole.length; cut++) expect(parseReply(b(whole.slice(0, cut)), 0)).toBeUndefined();
  }
});
