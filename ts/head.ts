// Composes the response head that crosses to the core in one string (BRIDGE.md, `respond`).
import type { ResponseStart } from './start-response.js';

let dateSecond = -1;
let dateHeader = '';

/** `Date: <IMF-fixdate>\r\n`, rebuilt at most once a second. */
function date(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateHeader = 'Date: ' + new Date(now).toUTCString() + '\r\n';
    dateSecond = second;
  }
  return dateHeader;
}

/** What the server adds to the app's headers, in eventlet's wire order. */
export interface HeadAdditions {
  /** A Content-Length the server computed, or -1. */
  contentLength: number;
  chunked: boolean;
  /** The connection closes after this response. */
  close: boolean;
  /** Echo `Connection: keep-alive` (the client asked for it). */
  echoKeepAlive: boolean;
  /** `Keep-Alive: timeout=N` with N >= 1, or 0 for none. */
  keepAliveSeconds: number;
}

export function composeHead(version: string, start: ResponseStart, add: HeadAdditions): string {
  let head = version + ' ' + start.status + '\r\n' + start.block;
  if (add.contentLength >= 0) head += 'Content-Length: ' + add.contentLength + '\r\n';
  if (!start.hasDate) head += date();
  if (add.chunked) head += 'Transfer-Encoding: chunked\r\n';
  if (add.close) {
    if (!start.connectionClose) head += 'Connection: close\r\n';
  } else if (add.echoKeepAlive && !start.hasConnection) {
    head += 'Connection: keep-alive\r\n';
    if (add.keepAliveSeconds >= 1) head += 'Keep-Alive: timeout=' + add.keepAliveSeconds + '\r\n';
  }
  return head + '\r\n';
}
