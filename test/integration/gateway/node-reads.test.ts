// The gateway's plain sockets read by Node itself (the native batch off, as where it is not
// built): a client sees the same (io-cases.ts).
import {batchedIoUnavailable} from '../../../src/net/batched-io';
import {ioCases} from './io-cases';

// Read once, when the first socket asks: before the gateway starts.
process.env.REDFLY_BATCHED_IO = '0';

test('the native batch is off in this file', () => {
  expect(batchedIoUnavailable()).toBe('REDFLY_BATCHED_IO=0');
});

ioCases('nodereads');
