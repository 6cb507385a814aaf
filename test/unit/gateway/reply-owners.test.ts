// The FIFO of who is owed an upstream's replies (src/gateway/reply-owners.ts).
import {ReplyOwners} from '../../../src/gateway/reply-owners';
import type {ReplySink} from '../../../src/gateway/types';

type Named = ReplySink & {name: string};

function sink(name: string): Named {
  return {name, deliver: () => {}, upstreamLost: () => {}};
}

const nameOf = (s: ReplySink | null): string | null => (s === null ? null : (s as Named).name);

/** Who gets each of the next `n` replies. */
function drain(q: ReplyOwners, n: number): (string | null)[] {
  const out: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    const f = q.first;
    if (f === undefined) throw new Error('nothing owed');
    out.push(nameOf(f));
    q.take();
  }
  return out;
}

test('replies go to their owners in the order the commands were sent, consecutive ones merged', () => {
  const q = new ReplyOwners();
  const [a, b] = [sink('a'), sink('b')];
  q.push(a, 2);
  q.push(a, 1);
  q.push(null, 1);
  q.push(b, 2);
  q.push(a, 1);
  expect(q.pending).toBe(7);
  expect(drain(q, 7)).toEqual(['a', 'a', 'a', null, 'b', 'b', 'a']);
  expect([q.empty, q.first, q.pending]).toEqual([true, undefined, 0]);
});

test('a long run of commands and replies, interleaved, keeps the order (slots reused and compacted)', () => {
  const q = new ReplyOwners();
  const sinks = [sink('x'), sink('y'), sink('z')];
  const expected: string[] = [];
  const got: (string | null)[] = [];
  for (let i = 0; i < 20000; i++) {
    const s = sinks[i % 3];
    q.push(s, 1);
    expected.push(s.name);
    // Fall behind by 2000 replies, then catch up, so the head passes the compaction point.
    if (i % 4000 >= 2000) got.push(...drain(q, Math.min(2, q.pending)));
  }
  got.push(...drain(q, q.pending));
  expect(got).toEqual(expected);
  expect(q.empty).toBe(true);
});

test('clear() empties the queue and names each sink still owed once', () => {
  const q = new ReplyOwners();
  const [a, b] = [sink('a'), sink('b')];
  q.push(a, 1);
  q.push(null, 1);
  q.push(b, 1);
  q.push(a, 1);
  q.take();
  expect(q.clear().map(nameOf)).toEqual(['b', 'a']);
  expect([q.empty, q.pending]).toEqual([true, 0]);
});
