// Whether a connection carries another request after this response (SPEC §7, §8).
import { Framing, RequestFlag } from './native/binding.js';

/** The request alone allows persistence: HTTP/1.1 unless `close`, HTTP/1.0 only with `keep-alive`. */
function requestAllowsKeepAlive(flags: number): boolean {
  if (flags & RequestFlag.ConnectionClose) return false;
  return (flags & RequestFlag.Http11) !== 0 || (flags & RequestFlag.ConnectionKeepAlive) !== 0;
}

export interface KeepAliveInputs {
  /** The `keepalive` option is on, `maxHttpVersion` is HTTP/1.1 and the server is not closing. */
  serverAllows: boolean;
  flags: number;
  /** The app sent `Connection: close`. */
  appClose: boolean;
  framing: number;
  /** The client sent `Expect: 100-continue`, was never answered, and its body may still be unsent. */
  unansweredExpect: boolean;
}

export function keepsAlive(inputs: KeepAliveInputs): boolean {
  return inputs.serverAllows &&
    requestAllowsKeepAlive(inputs.flags) &&
    !inputs.appClose &&
    inputs.framing !== Framing.UntilClose &&
    !inputs.unansweredExpect;
}
