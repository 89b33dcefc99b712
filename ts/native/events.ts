// Decodes an event batch from the addon (BRIDGE.md, "The event batch") into handler calls.
// Byte payloads are views into the batch, or the large payloads handed over beside it, never
// copies: each wake brings fresh Buffers.
import type { CloseCause } from './binding.js';

export interface EventHandler {
  onRequest(conn: number, flags: number, text: string, body: Buffer): void;
  onData(conn: number, end: boolean, bytes: Buffer): void;
  onError(conn: number, message: string): void;
  onDrain(conn: number): void;
  onDone(conn: number, ok: boolean): void;
  onClosed(conn: number, cause: CloseCause): void;
  onLog(line: string): void;
  onServerClosed(): void;
}

const REQUEST = 1;
const DATA = 2;
const ERROR = 3;
const DRAIN = 4;
const DONE = 5;
const CLOSED = 6;
const LOG = 7;
const SERVER_CLOSED = 8;

/** DATA flag bits. */
const DATA_END = 1;
const DATA_OUT_OF_BAND = 2;
const EMPTY = Buffer.alloc(0);

export function dispatchEvents(batch: Buffer, payloads: Buffer[] | undefined, handler: EventHandler): void {
  let at = 0;
  const length = batch.length;
  while (at < length) {
    const kind = batch[at]!;
    const conn = batch.readUInt32LE(at + 1);
    at += 5;
    switch (kind) {
      case REQUEST: {
        const flags = batch.readUInt32LE(at);
        const textLength = batch.readUInt32LE(at + 4);
        const textStart = at + 8;
        const text = batch.toString('latin1', textStart, textStart + textLength);
        at = textStart + textLength;
        const bodyLength = batch.readUInt32LE(at);
        const body = batch.subarray(at + 4, at + 4 + bodyLength);
        at += 4 + bodyLength;
        handler.onRequest(conn, flags, text, body);
        break;
      }
      case DATA: {
        const flags = batch[at]!;
        const end = (flags & DATA_END) !== 0;
        let bytes: Buffer;
        if ((flags & DATA_OUT_OF_BAND) !== 0) {
          bytes = payloads?.[batch.readUInt32LE(at + 1)] ?? EMPTY;
          at += 5;
        } else {
          const dataLength = batch.readUInt32LE(at + 1);
          bytes = batch.subarray(at + 5, at + 5 + dataLength);
          at += 5 + dataLength;
        }
        handler.onData(conn, end, bytes);
        break;
      }
      case ERROR:
      case LOG: {
        const textLength = batch.readUInt32LE(at);
        const message = batch.toString('utf8', at + 4, at + 4 + textLength);
        at += 4 + textLength;
        if (kind === ERROR) handler.onError(conn, message);
        else handler.onLog(message);
        break;
      }
      case DRAIN:
        handler.onDrain(conn);
        break;
      case DONE: {
        const ok = batch[at] === 1;
        at += 1;
        handler.onDone(conn, ok);
        break;
      }
      case CLOSED: {
        const cause = batch[at]! as CloseCause;
        at += 1;
        handler.onClosed(conn, cause);
        break;
      }
      case SERVER_CLOSED:
        handler.onServerClosed();
        break;
      default:
        // The rest of the batch cannot be framed without knowing this event's size.
        throw new Error(`ferrowsgi: unknown native event kind ${kind} at offset ${at - 5}`);
    }
  }
}
