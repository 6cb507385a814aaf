// How a new upstream connection's setup replies are judged: the commands that make it usable
// (AUTH with the internal secret, HELLO 3 for a RESP3 client) each owe a reply, and the
// connection is ready once every one came back without an error (src/gateway/upstream.ts).
import type {ReplySink} from './types';

/** Setup commands (AUTH, HELLO): an error closes the connection; once every reply is in
 *  without one, the connection is ready. */
export class Setup implements ReplySink {
  private left = 0;
  constructor(private readonly onError: (text: string) => void, private readonly onDone: () => void) {}
  expect(n: number): void {
    this.left += n;
  }
  deliver(buf: Buffer, start: number, end: number, complete: number): void {
    if (end > start && buf[start] === 45 /* '-' */) {
      this.left = -1;
      this.onError(buf.toString('utf8', start, end).trim());
      return;
    }
    if (this.left > 0 && (this.left -= complete) === 0) this.onDone();
  }
  upstreamLost(): void {}
}
