// Admission control's rules, one by one, with a fake clock where time matters.
import type * as net from 'node:net';
import {Admission, admissionFromEnv, MAX_CLIENTS_TEXT, MAX_UNAUTH_TEXT, Ticket} from '../../../src/gateway/admission';

const sock = (address: string) => ({remoteAddress: address}) as net.Socket;

function admission(opts = {}) {
  const lines: string[] = [];
  return {a: new Admission({authTimeoutMs: 0, ...opts}, (m) => lines.push(m)), lines};
}

it('caps connections that have not authenticated, per address and in all, and frees them on login or close', () => {
  const {a} = admission({maxUnauthenticatedPerAddress: 2, maxUnauthenticated: 3});
  const t1 = a.accept(sock('10.0.0.1'), () => {}) as Ticket;
  const t2 = a.accept(sock('10.0.0.1'), () => {}) as Ticket;
  expect(a.accept(sock('10.0.0.1'), () => {})).toBe(MAX_UNAUTH_TEXT);
  expect(a.accept(sock('10.0.0.2'), () => {})).toBeInstanceOf(Ticket);
  expect(a.accept(sock('10.0.0.3'), () => {})).toBe(MAX_UNAUTH_TEXT); // 3 in all
  a.authenticated(t1);
  expect(a.accept(sock('10.0.0.1'), () => {})).toBeInstanceOf(Ticket);
  a.closed(t2);
  a.closed(t2); // twice is once
  expect(a.accept(sock('10.0.0.3'), () => {})).toBeInstanceOf(Ticket);
});

it('caps all client connections (maxclients)', () => {
  const {a} = admission({maxClients: 2});
  const t = a.accept(sock('a'), () => {}) as Ticket;
  a.authenticated(t);
  a.accept(sock('b'), () => {});
  expect(a.accept(sock('c'), () => {})).toBe(MAX_CLIENTS_TEXT);
  a.closed(t);
  expect(a.accept(sock('c'), () => {})).toBeInstanceOf(Ticket);
});

it('closes a connection that has not logged in by the deadline', async () => {
  const {a} = admission({authTimeoutMs: 30});
  let expired = 0;
  a.accept(sock('a'), () => expired++);
  const t = a.accept(sock('a'), () => expired++) as Ticket;
  a.authenticated(t);
  await new Promise((r) => setTimeout(r, 80));
  expect(expired).toBe(1);
});

it('spaces the AUTH checks of an address that keeps failing, across its connections, and logs without passwords', () => {
  const {a, lines} = admission({authFailuresFree: 2, authBaseDelayMs: 100, authMaxDelayMs: 400});
  const t1 = a.accept(sock('10.0.0.9'), () => {}) as Ticket;
  const t2 = a.accept(sock('10.0.0.9'), () => {}) as Ticket;
  const other = a.accept(sock('10.0.0.8'), () => {}) as Ticket;
  const now = 1_000_000;
  for (let i = 0; i < 3; i++) {
    expect(a.authDelay(t1, now)).toBe(0);
    a.authFailed(t1, 'mad', null, now);
  }
  // Over the free failures: one check at a time, 100 ms apart, whichever connection asks; the
  // spacing doubles with every further failure (up to 400 ms).
  expect(a.authDelay(t1, now)).toBe(0);
  expect(a.authDelay(t2, now)).toBe(100);
  a.authFailed(t1, 'mad', null, now);
  expect(a.authDelay(t1, now)).toBe(200); // after t2's turn (100 + its 100)
  a.authFailed(t1, 'mad', null, now);
  const t3 = a.accept(sock('10.0.0.9'), () => {}) as Ticket;
  expect(a.authDelay(t3, now)).toBe(200 + 200);
  // The waiting connection is let through once its turn has come.
  expect(a.authDelay(t2, now + 100)).toBe(0);
  // Another address is not slowed.
  expect(a.authDelay(other, now)).toBe(0);
  // After the window, the address starts over.
  expect(a.authDelay(t2, now + 120_000)).toBe(0);
  expect(lines.length).toBe(1); // one line per address per 10 s
  expect(lines[0]).toMatch(/failed AUTH from 10\.0\.0\.9 in region mad/);
});

it("bounds a client's unread output: hard at once, soft after its seconds", () => {
  const {a} = admission({outputHardBytes: 1000, outputSoftBytes: 100, outputSoftSeconds: 2});
  const t = a.accept(sock('a'), () => {}) as Ticket;
  expect(a.outputOver(t, 1001, 0)).toBe(true);
  expect(a.outputOver(t, 500, 10_000)).toBe(false);
  expect(a.outputOver(t, 500, 11_000)).toBe(false);
  expect(a.outputOver(t, 50, 11_500)).toBe(false); // back under: the clock starts over
  expect(a.outputOver(t, 500, 12_000)).toBe(false);
  expect(a.outputOver(t, 500, 14_001)).toBe(true);
});

it('reads its settings from the environment and names a bad one', () => {
  expect(admissionFromEnv({REDFLY_AUTH_TIMEOUT_MS: '2500', REDFLY_GATEWAY_MAX_CLIENTS: '40'})).toEqual({authTimeoutMs: 2500, maxClients: 40});
  expect(() => admissionFromEnv({REDFLY_AUTH_TIMEOUT_MS: 'soon'})).toThrow(/REDFLY_AUTH_TIMEOUT_MS/);
});
