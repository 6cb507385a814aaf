// Reading pages of database 1's log, in both logs (SQLite and PostgreSQL): each log returns a
// page as one row of concatenations (one buffer of payloads, lists of sequences, times and
// sizes), which the reader splits again. A payload must come back byte for byte (NUL, CR LF,
// bytes that are not UTF-8), in sequence order, within the page's entry and byte bounds, and a
// first entry larger than the byte bound still comes alone.
import * as path from 'node:path';
import type {CacheLog} from '../../../src/cache/log-api';
import {ReplayLog} from '../../../src/cache/log';
import {PostgresLog} from '../../../src/cache/log-postgres';
import {startPostgres, TestPostgres} from '../../helpers/postgres';
import {rmrf, tempDir} from './helpers';

let pg: TestPostgres;
let dir: string;

beforeAll(async () => {
  pg = await startPostgres();
  dir = tempDir();
}, 60_000);

afterAll(async () => {
  await pg?.stop();
  if (dir) rmrf(dir);
});

/** Payload i: a RESP-looking prefix, then bytes 0..255 rotated by i, of size 1 + (i * 37) % 300. */
function payload(i: number): Buffer {
  const body = Buffer.alloc(1 + ((i * 37) % 300));
  for (let k = 0; k < body.length; k++) body[k] = (k + i) % 256;
  return Buffer.concat([Buffer.from(`*1\r\n$${body.length}\r\n`), body, Buffer.from('\r\n')]);
}

// Each opens the same log every time it is called (the SQLite one in one file).
const kinds: Array<[string, () => () => Promise<CacheLog>]> = [
  [
    'SQLite',
    () => {
      const name = `log-${Math.random().toString(36).slice(2)}.db`;
      return async () => new ReplayLog(path.join(dir, name));
    },
  ],
  ['PostgreSQL', () => () => PostgresLog.open(pg.url)],
];

describe.each(kinds)('%s log pages', (_name, opener) => {
  const open = opener();
  let log: CacheLog;
  const org = `org${Math.random().toString(36).slice(2, 8)}`;
  const N = 1200;

  beforeAll(async () => {
    log = await open();
    await Promise.all(Array.from({length: N}, (_, i) => log.append(org, 1_700_000_000_000 + i, 'mad', 'SET', payload(i + 1))));
    // Opened again: what a restarted process reads (the SQLite log would otherwise answer from
    // the recent entries it keeps in memory).
    await log.close();
    log = await open();
  }, 60_000);

  afterAll(async () => {
    await log?.close();
  });

  test('appends awaited one after another each commit (a pipeline of database-1 writes)', async () => {
    // The next append is made when the previous one's promise resolves, in a microtask of the
    // commit's turn: it once found the PostgreSQL log still "flushing" and was never committed.
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push(await log.append(`${org}-seq`, 1_700_000_000_000 + i, 'mad', 'SET', payload(i + 1)));
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
  }, 20_000);

  test('every entry comes back byte for byte, in order, through pages of 500', async () => {
    let after = 0;
    const seen: number[] = [];
    for (;;) {
      const page = await log.read(org, after, 500, 1 << 30);
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(500);
      for (const e of page) {
        expect(e.payload.equals(payload(e.seq))).toBe(true);
        expect(e.acceptedAt).toBe(1_700_000_000_000 + e.seq - 1);
        seen.push(e.seq);
      }
      after = page[page.length - 1].seq;
    }
    expect(seen).toEqual(Array.from({length: N}, (_, i) => i + 1));
  });

  test('a page stops at the byte bound, and a first entry over it comes alone', async () => {
    const bound = 2000;
    const page = await log.read(org, 100, 1000, bound);
    const bytes = page.reduce((n, e) => n + e.payload.length, 0);
    expect(bytes).toBeLessThanOrEqual(bound);
    expect(bytes + payload(page[page.length - 1].seq + 1).length).toBeGreaterThan(bound);
    expect(page.map((e) => e.seq)).toEqual(Array.from({length: page.length}, (_, i) => 101 + i));
    const one = await log.read(org, 100, 1000, 1);
    expect(one.map((e) => e.seq)).toEqual([101]);
    expect(one[0].payload.equals(payload(101))).toBe(true);
  });

  test('nothing after the last entry, and the tail end of the log', async () => {
    expect(await log.read(org, N, 100, 1 << 20)).toEqual([]);
    expect((await log.read(org, N - 3, 100, 1 << 20)).map((e) => e.seq)).toEqual([N - 2, N - 1, N]);
    expect(await log.read('no-such-org', 0, 100, 1 << 20)).toEqual([]);
  });

  test('a cursor below the oldest retained entry (trimmed) reads from that entry', async () => {
    // Entries accepted before 1_700_000_000_000 + 100 are past a zero age bound: seq 1..100 go.
    expect(await log.trim(org, 1_700_000_000_000 + 100, 0, 1 << 30)).toBe(100);
    const page = await log.read(org, 0, 50, 1 << 20);
    expect(page.map((e) => e.seq)).toEqual(Array.from({length: 50}, (_, i) => 101 + i));
    expect((await log.read(org, 40, 5, 1 << 20)).map((e) => e.seq)).toEqual([101, 102, 103, 104, 105]);
  });
});
