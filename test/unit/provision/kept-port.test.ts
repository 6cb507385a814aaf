import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {keptPort} from '../../../src/provision/kept-port';

describe("a copy's kept TLS port", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'redfly-kept-'))));
  afterEach(() => rmSync(dir, {recursive: true, force: true}));

  test('the first start draws one and keeps it; the next start gets it back', async () => {
    expect(await keptPort(join(dir, 'mad'), 'tls-port', () => true, async () => 21001)).toBe(21001);
    expect(readFileSync(join(dir, 'mad', 'tls-port'), 'utf8')).toBe('21001\n');
    expect(await keptPort(join(dir, 'mad'), 'tls-port', () => true, async () => 29999)).toBe(21001);
  });
  test('a kept port that is taken, or a file that holds no port, gives a new one (kept from then on)', async () => {
    writeFileSync(join(dir, 'tls-port'), '21001\n');
    expect(await keptPort(dir, 'tls-port', () => false, async () => 21002)).toBe(21002);
    writeFileSync(join(dir, 'tls-port'), 'garbage');
    expect(await keptPort(dir, 'tls-port', () => true, async () => 21003)).toBe(21003);
    expect(readFileSync(join(dir, 'tls-port'), 'utf8')).toBe('21003\n');
  });
});
