// A server start makes its home private: all of it the first time, then all but the databases'
// process folders (1,000 databases are 6,000 entries a start would otherwise walk; what is under
// them is written under the private umask once the first pass was made).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {makePrivateHome} from '../../../src/lib/private-files';

const mode = (f: string) => fs.statSync(f).mode & 0o777;

test('the first start tightens everything and leaves its marker; later starts skip the given folders only', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'redfly-private-'));
  try {
    const marker = path.join(home, '.private');
    const data = path.join(home, 'data');
    fs.mkdirSync(path.join(data, 'db1', 'mad'), {recursive: true, mode: 0o755});
    fs.writeFileSync(path.join(data, 'db1', 'mad', 'redis.conf'), 'x', {mode: 0o644});
    fs.writeFileSync(path.join(home, 'notes.txt'), 'x', {mode: 0o644});
    fs.chmodSync(home, 0o755);

    expect(makePrivateHome(home, marker, [data])).toBeGreaterThanOrEqual(5);
    expect(fs.existsSync(marker)).toBe(true);
    expect(mode(marker)).toBe(0o600);
    for (const f of [home, data, path.join(data, 'db1', 'mad'), path.join(data, 'db1', 'mad', 'redis.conf'), path.join(home, 'notes.txt')]) {
      expect([f, mode(f)]).toEqual([f, fs.statSync(f).isDirectory() ? 0o700 : 0o600]);
    }

    fs.chmodSync(path.join(home, 'notes.txt'), 0o644);
    fs.chmodSync(path.join(data, 'db1', 'mad', 'redis.conf'), 0o644);
    expect(makePrivateHome(home, marker, [data])).toBe(1);
    expect(mode(path.join(home, 'notes.txt'))).toBe(0o600);
    expect(mode(path.join(data, 'db1', 'mad', 'redis.conf'))).toBe(0o644); // skipped after the first pass

    fs.rmSync(marker);
    makePrivateHome(home, marker, [data]); // a home without the marker gets the whole pass again
    expect(mode(path.join(data, 'db1', 'mad', 'redis.conf'))).toBe(0o600);
  } finally {
    fs.rmSync(home, {recursive: true, force: true});
  }
});
