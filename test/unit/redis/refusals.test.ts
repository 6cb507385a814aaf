// The refusal policy as a pure function: managed databases, the cache layered on top, and the
// tenant user's ACL rules rendered from it.
import {cacheOwnRefusal, cacheRefusal, managedRefusal, tenantAclRules} from '../../../src/redis/refusals';

const cmd = (name: string, flags: string[] = [], categories: string[] = []) => ({name, flags: new Set(flags), categories: new Set(categories)});

test('admin-flagged commands are refused, named as Redis names them', () => {
  expect(managedRefusal(cmd('bgsave', ['admin']))).toBe("ERR Command is not available: 'BGSAVE'");
  expect(managedRefusal(cmd('client|pause', ['admin']))).toBe("ERR Command is not available: 'CLIENT PAUSE'");
  // A family refused whole is named by the family.
  expect(managedRefusal(cmd('config|rewrite', ['admin']))).toBe("ERR Command is not available: 'CONFIG'");
  // (ACL SETUSER & co. are on the surface since the database's own users: DRYRUN stays refused.)
  expect(managedRefusal(cmd('acl|dryrun', ['admin']))).toBe("ERR Command is not available: 'ACL'");
});

test('the managed surface runs although flagged admin', () => {
  for (const n of ['config|get', 'config|set', 'config|resetstat', 'client|list', 'client|kill', 'acl|whoami']) {
    expect(managedRefusal(cmd(n, ['admin']))).toBeNull();
  }
  expect(managedRefusal(cmd('get', ['readonly'], ['@read', '@string']))).toBeNull();
});

test('the cache refuses whole families by category and flag, then what managed databases refuse', () => {
  const text = (n: string) => `ERR Command is not available on the regional cache: '${n}'`;
  expect(cacheRefusal(cmd('eval_ro', [], ['@scripting']))).toBe(text('EVAL_RO'));
  expect(cacheRefusal(cmd('fcall', [], ['@scripting']))).toBe(text('FCALL'));
  expect(cacheRefusal(cmd('watch', [], ['@transaction']))).toBe(text('WATCH'));
  expect(cacheRefusal(cmd('spublish', ['pubsub'], ['@pubsub']))).toBe(text('SPUBLISH'));
  expect(cacheRefusal(cmd('geosearch', ['readonly'], ['@geo']))).toBe(text('GEOSEARCH'));
  expect(cacheRefusal(cmd('sort_ro', ['readonly'], ['@list']))).toBe(text('SORT_RO'));
  // The cache has no users of its own.
  expect(cacheRefusal(cmd('acl|setuser', ['admin'], ['@admin']))).toBe(text('ACL'));
  expect(cacheRefusal(cmd('acl|whoami', [], []))).toBeNull();
  expect(cacheRefusal(cmd('config|get', ['admin']))).toBe(text('CONFIG'));
  expect(cacheRefusal(cmd('bgsave', ['admin']))).toBe("ERR Command is not available: 'BGSAVE'");
  expect(cacheOwnRefusal(cmd('bgsave', ['admin']))).toBeNull();
  expect(cacheRefusal(cmd('get', ['readonly'], ['@read', '@string']))).toBeNull();
});

test('the tenant user ACL denies what is refused before allowing single subcommands back', () => {
  const rules = tenantAclRules().split(' ');
  expect(rules.slice(0, 4)).toEqual(['~*', '&*', '+@all', '-@admin']);
  expect(rules).toContain('-config');
  expect(rules.indexOf('+config|set')).toBeGreaterThan(rules.indexOf('-config'));
  expect(rules).not.toContain('+client|kill'); // answered by the gateway, never forwarded
});
