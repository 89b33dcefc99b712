// Sends what the app returned (SPEC §5, §8): an array in one call, anything else streamed with
// minimum-chunk buffering and backpressure, and `close()` called once at the end.
import type { Chunk } from './app.js';
import { describeError, failRequest } from './app-error.js';
import { asBuffer, type Exchange } from './exchange.js';

/** Runs the app for a new exchange and sends its response. */
export function runExchange(exchange: Exchange): void {
  let result: unknown;
  try {
    result = exchange.callApp();
  } catch (err) {
    failRequest(exchange, err);
    exchange.complete();
    return;
  }
  // The common case stays synchronous: no Promise, the response leaves in this event dispatch.
  if (Array.isArray(result)) sendArray(exchange, result);
  else void sendLater(exchange, result);
}

function sendArray(exchange: Exchange, chunks: unknown[]): void {
  try {
    if (!exchange.gone) {
      if (exchange.headSent) {
        // The app used write(): the head is out, the array is the rest of the body.
        for (const chunk of chunks) {
          const buffer = toSendable(chunk);
          exchange.writeBody(buffer, byteLength(buffer));
        }
        exchange.endBody(null, 0);
      } else {
        const [body, length] = concatenate(chunks);
        exchange.respondWhole(body, length);
      }
    }
  } catch (err) {
    failRequest(exchange, err);
  }
  closeBody(exchange, chunks);
  exchange.complete();
}

async function sendLater(exchange: Exchange, result: unknown): Promise<void> {
  let body: unknown = result;
  try {
    if (isThenable(body)) body = await body;
    if (Array.isArray(body)) {
      sendArray(exchange, body);
      return;
    }
    await stream(exchange, body);
  } catch (err) {
    failRequest(exchange, err);
  }
  closeBody(exchange, body);
  exchange.complete();
}

const GONE = Symbol('gone');

async function stream(exchange: Exchange, body: unknown): Promise<void> {
  const iterateAsync = isAsyncIterable(body);
  if (!iterateAsync && !isIterable(body)) {
    throw new TypeError(`the app returned ${describeValue(body)}, not an iterable body`);
  }
  // Read once the app has returned, as eventlet does, so the app may set it while it runs.
  const override = Number(exchange.env['eventlet.minimum_write_chunk_size']);
  const minimum = Number.isFinite(override) && override >= 0 ? override : exchange.ctx.settings.minimumChunkSize;
  let pending: Array<string | Buffer> = [];
  let pendingBytes = 0;

  const take = async (chunk: unknown): Promise<void> => {
    const sendable = toSendable(chunk);
    const length = byteLength(sendable);
    // Empty chunks are skipped: nothing may be sent before the first non-empty one (SPEC §5).
    if (length === 0) return;
    pending.push(sendable);
    pendingBytes += length;
    if (pendingBytes < minimum) return;
    const joined = join(pending);
    const bytes = pendingBytes;
    pending = [];
    pendingBytes = 0;
    if (!exchange.writeBody(joined, bytes)) await exchange.drained();
  };

  if (iterateAsync) {
    const iterator = (body as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    for (;;) {
      // A body waiting for its next chunk must not outlive the client.
      const step = await exchange.unlessGone(iterator.next(), GONE);
      if (step === GONE) {
        void Promise.resolve(iterator.return?.()).catch(() => undefined);
        return;
      }
      if (step.done) break;
      await take(step.value);
      if (exchange.gone) {
        void Promise.resolve(iterator.return?.()).catch(() => undefined);
        return;
      }
    }
  } else {
    for (const chunk of body as Iterable<unknown>) {
      await take(chunk);
      if (exchange.gone) return;
    }
  }
  if (exchange.gone) return;
  exchange.endBody(pending.length === 0 ? null : join(pending), pendingBytes);
}

/** `close()` of the body, exactly once per response (WSGI). */
function closeBody(exchange: Exchange, body: unknown): void {
  const close = (body as { close?: unknown } | null | undefined)?.close;
  if (typeof close !== 'function') return;
  const report = (err: unknown) =>
    exchange.ctx.log.line(`Error in close() of the body for "${exchange.requestLine}":\n${describeError(err)}`);
  try {
    const result: unknown = close.call(body);
    if (isThenable(result)) Promise.resolve(result).catch(report);
  } catch (err) {
    report(err);
  }
}

function toSendable(chunk: unknown): string | Buffer {
  if (typeof chunk === 'string') return chunk;
  if (chunk instanceof Uint8Array) return asBuffer(chunk);
  throw new TypeError(`a body chunk must be a string or a Uint8Array, got ${describeValue(chunk)}`);
}

function byteLength(chunk: string | Buffer): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
}

/** Pieces as one string (the addon encodes it as UTF-8) or one Buffer. */
function join(pieces: Array<string | Buffer>): string | Buffer {
  if (pieces.length === 1) return pieces[0]!;
  let allStrings = true;
  for (const piece of pieces) if (typeof piece !== 'string') allStrings = false;
  if (allStrings) return pieces.join('');
  return Buffer.concat(pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)));
}

function concatenate(chunks: unknown[]): [string | Buffer | null, number] {
  if (chunks.length === 0) return [null, 0];
  if (chunks.length === 1) {
    const only = toSendable(chunks[0]);
    return [only, byteLength(only)];
  }
  const pieces: Array<string | Buffer> = [];
  let length = 0;
  for (const chunk of chunks) {
    const piece = toSendable(chunk);
    pieces.push(piece);
    length += byteLength(piece);
  }
  return [join(pieces), length];
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

function isIterable(value: unknown): value is Iterable<Chunk> {
  return typeof (value as { [Symbol.iterator]?: unknown } | null | undefined)?.[Symbol.iterator] === 'function';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Chunk> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null | undefined)?.[Symbol.asyncIterator] === 'function';
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  return typeof value === 'string' ? 'a string' : String(typeof value);
}
