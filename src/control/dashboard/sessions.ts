// Dashboard logins without the access token in a URL: the CLI (with its bearer token) asks for a
// one-time link; opening it exchanges the link's code for a session cookie and forgets the code.
// Sessions remember the token's id only: the token is looked up again on every request, so a
// revoked token's sessions stop working at once. Everything is in memory (a server restart logs
// everyone out, which is what a restart of a local tool should do).
import {randomString} from '../ids';

/** What a link opens: one database's page, or an organization's. */
export type DashboardTarget = {kind: 'database'; name: string} | {kind: 'org'; slug: string};

interface Pending {
  tokenId: string;
  target: DashboardTarget;
  expiresAt: number;
}

/** How long a login link can be opened (ms): long enough to click, short enough to not leak. */
export const LINK_TTL_MS = 2 * 60_000;
/** How long a session lasts after login (ms). */
export const SESSION_TTL_MS = 12 * 3600_000;

export class DashboardSessions {
  private readonly links = new Map<string, Pending>();
  private readonly sessions = new Map<string, {tokenId: string; expiresAt: number}>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new one-time code for `tokenId` to open `target`; valid for LINK_TTL_MS. */
  createLink(tokenId: string, target: DashboardTarget): {code: string; expiresAt: Date} {
    this.sweep();
    const code = randomString(43);
    const expiresAt = this.now() + LINK_TTL_MS;
    this.links.set(code, {tokenId, target, expiresAt});
    return {code, expiresAt: new Date(expiresAt)};
  }

  /** Uses up a code: a new session id and where to go, or undefined (unknown, used or expired). */
  redeem(code: string): {sessionId: string; target: DashboardTarget} | undefined {
    const link = this.links.get(code);
    this.links.delete(code);
    if (!link || link.expiresAt < this.now()) return undefined;
    const sessionId = randomString(43);
    this.sessions.set(sessionId, {tokenId: link.tokenId, expiresAt: this.now() + SESSION_TTL_MS});
    return {sessionId, target: link.target};
  }

  /** The token id behind a session cookie, or undefined. */
  tokenOf(sessionId: string | undefined): string | undefined {
    if (!sessionId) return undefined;
    const s = this.sessions.get(sessionId);
    if (!s) return undefined;
    if (s.expiresAt < this.now()) {
      this.sessions.delete(sessionId);
      return undefined;
    }
    return s.tokenId;
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, v] of this.links) if (v.expiresAt < now) this.links.delete(k);
    for (const [k, v] of this.sessions) if (v.expiresAt < now) this.sessions.delete(k);
  }
}
