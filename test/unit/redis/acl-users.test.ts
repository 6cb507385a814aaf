// The pure part of a database's own users: the cap from a command table, the rules refused
// for them, ACL LIST lines, and their redis.conf rendering.
import {addedHashes, capRules, CommandTree, lineHashes, parseAclLine, passwordHash, setuserError} from '../../../src/redis/acl-users';
import {renderConfig, settingsLines} from '../../../src/provision/config';

const cmd = (name: string, flags: string[], categories: string[], subs: CommandTree[] = []): CommandTree => ({
  name, flags: new Set(flags), categories: new Set(categories), subcommands: new Map(subs.map((s) => [s.name.split('|')[1], s])),
});

test('capRules denies what the tenant user is denied: whole commands, or single subcommands', () => {
  const table = [
    cmd('get', ['readonly'], ['@read']),
    cmd('debug', ['admin'], ['@admin']),
    cmd('lastsave', [], ['@admin']),
    cmd('config', [], [], [cmd('config|get', ['admin'], ['@admin']), cmd('config|rewrite', ['admin'], ['@admin'])]),
    cmd('cluster', [], [], [cmd('cluster|info', [], [])]),
    cmd('acl', [], [], [cmd('acl|whoami', [], []), cmd('acl|setuser', ['admin'], ['@admin']), cmd('acl|cat', [], [])]),
  ];
  expect(capRules(table)).toEqual(['-debug', '-config|rewrite', '-cluster', '-acl|setuser']);
});

test('setuserError refuses the reserved and default users, nopass, selectors and config-unsafe words', () => {
  const reserved = new Set(['redfly', 'redfly-tenant']);
  expect(setuserError('reader', ['on', '>pw', '+@read', '~*'], reserved)).toBeNull();
  expect(setuserError('redfly', ['on'], reserved)).toMatch(/reserved/);
  expect(setuserError('default', ['>x'], reserved)).toMatch(/default/);
  expect(setuserError('u', ['nopass'], reserved)).toMatch(/nopass/);
  expect(setuserError('u', ['(~x +get)'], reserved)).toMatch(/selectors/);
  for (const bad of ['~a"b', ">p'w", '~a\nb', '>p w']) expect(setuserError('u', [bad], reserved)).toMatch(/not available/);
  expect(setuserError('a b', ['on'], reserved)).toMatch(/user name/);
});

test('ACL LIST lines: name, rules (a selector is one), password hashes', () => {
  const sha = passwordHash('pw');
  expect(addedHashes(['>pw', `#${sha.toUpperCase()}`, '+get'])).toEqual([sha, sha]);
  const line = `user u on #${sha} ~* resetchannels -@all +get (~x resetchannels -@all +set)`;
  expect(parseAclLine(line)).toEqual({name: 'u', rules: ['on', `#${sha}`, '~*', 'resetchannels', '-@all', '+get', '(~x resetchannels -@all +set)']});
  expect(lineHashes(line)).toEqual([sha]);
  expect(parseAclLine('not a line')).toBeNull();
});

test('redis.conf renders the saved users after the internal ones, and notify-keyspace-events', () => {
  const line = `user u on #${passwordHash('pw')} ~* resetchannels -@all +get`;
  expect(settingsLines({aclUsers: [line, 'user x on ~a"b', 'dir /tmp'], notifyKeyspaceEvents: 'Ex'}))
    .toEqual([line, 'notify-keyspace-events "Ex"']);
  const conf = renderConfig({port: 1, dir: '/d', internalSecret: 's', maxmemoryBytes: 1, eviction: false, settings: {aclUsers: [line]}});
  expect(conf.indexOf(line)).toBeGreaterThan(conf.indexOf('user redfly-tenant'));
  expect(settingsLines(undefined)).toEqual([]);
});
