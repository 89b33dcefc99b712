// Whether a connection carries another request after this response (SPEC §7, §8).
import { Framing, RequestFlag } from './native/binding.js';

/** The request alone allows persistence: HTTP/1.1 unless `close`, HTTP/1.0 only with `keep-alive`. */
function requestAllowsKeepAlive(flags: number): boolean {
  if (flags & RequestFlag.ConnectionClose) return false;
  if ((flags & RequestFlag.Http11) !== 0) return true;
  // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing, so the
  // connection closes after it even with `keep-alive` (a 1.0 intermediary may have read the
  // chunked bytes as the next request: smuggling).
  if ((flags & RequestFlag.BodyFraming) === RequestFlag.BodyChunked) return false;
  return (flags & RequestFlag.ConnectionKeepAlive) !== 0;
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
  /** A 2xx answer to CONNECT: the client now takes the connection for a tunnel, which this server cannot be. */
  tunnel: boolean;
}

export function keepsAlive(inputs: KeepAliveInputs): boolean {
  return inputs.serverAllows &&
    requestAllowsKeepAlive(inputs.flags) &&
    !inputs.appClose &&
    inputs.framing !== Framing.UntilClose &&
    !inputs.unansweredExpect &&
    !inputs.tunnel;
}
