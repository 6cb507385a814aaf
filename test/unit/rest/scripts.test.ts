import {createHash} from 'node:crypto';
import {adaptScript, adaptScriptCommand} from '../../../src/rest/scripts';

const b = (s: string) => Buffer.from(s);
const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

test('drops only the flags Redis does not know, keeping the rest of the script byte for byte', () => {
  expect(adaptScript(b('#!lua flags=allow-key-locking\nreturn 1'))?.toString()).toBe('#!lua\nreturn 1');
  expect(adaptScript(b('#!lua flags=no-writes,allow-key-locking\r\nreturn 1'))?.toString()).toBe('#!lua flags=no-writes\r\nreturn 1');
  expect(adaptScript(b('#!lua name=lib flags=allow-key-locking\nreturn "é"'))?.toString()).toBe('#!lua name=lib\nreturn "é"');
});

test('leaves scripts without such a flag alone', () => {
  expect(adaptScript(b('return 1'))).toBeNull();
  expect(adaptScript(b('#!lua\nreturn 1'))).toBeNull();
  expect(adaptScript(b('#!lua flags=no-writes\nreturn 1'))).toBeNull();
  expect(adaptScript(b('-- #!lua flags=allow-key-locking\nreturn 1'))).toBeNull();
});

test("EVALSHA with the client's own hash names the script Redis ran", () => {
  const script = '#!lua flags=allow-key-locking\nreturn 42';
  const evalCmd = [b('EVAL'), b(script), b('0')];
  adaptScriptCommand(evalCmd);
  expect(evalCmd[1].toString()).toBe('#!lua\nreturn 42');
  const evalsha = [b('evalsha'), b(sha1(script)), b('0')];
  adaptScriptCommand(evalsha);
  expect(evalsha[1].toString()).toBe(sha1('#!lua\nreturn 42'));
  const other = [b('EVALSHA'), b('f'.repeat(40)), b('0')];
  adaptScriptCommand(other);
  expect(other[1].toString()).toBe('f'.repeat(40));
});
