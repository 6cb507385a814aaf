import {DashboardSessions, LINK_TTL_MS, SESSION_TTL_MS} from '../../../src/control/dashboard/sessions';

describe('dashboard links and sessions', () => {
  let now = 1_000_000;
  const sessions = () => new DashboardSessions(() => now);

  it('a link opens once, into a session of its token, and says where to go', () => {
    const s = sessions();
    const {code} = s.createLink('tok_a', {kind: 'database', name: 'dash'});
    const first = s.redeem(code);
    expect(first?.target).toEqual({kind: 'database', name: 'dash'});
    expect(s.tokenOf(first!.sessionId)).toBe('tok_a');
    expect(s.redeem(code)).toBeUndefined();
  });

  it('a link expires after LINK_TTL_MS; a session after SESSION_TTL_MS', () => {
    const s = sessions();
    const late = s.createLink('tok_a', {kind: 'org', slug: 'acme'});
    now += LINK_TTL_MS + 1;
    expect(s.redeem(late.code)).toBeUndefined();
    const ok = s.redeem(s.createLink('tok_a', {kind: 'org', slug: 'acme'}).code)!;
    now += SESSION_TTL_MS - 1;
    expect(s.tokenOf(ok.sessionId)).toBe('tok_a');
    now += 2;
    expect(s.tokenOf(ok.sessionId)).toBeUndefined();
  });

  it('unknown codes and cookies are nobody', () => {
    const s = sessions();
    expect(s.redeem('nope')).toBeUndefined();
    expect(s.tokenOf(undefined)).toBeUndefined();
    expect(s.tokenOf('nope')).toBeUndefined();
  });
});
