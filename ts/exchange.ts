// One request and its response on a connection: the state between a REQUEST event and the end
// of the response, and the calls that move the response to the core (BRIDGE.md).
import type { App, Chunk, Environ, StartResponse, WriteCallable } from './app.js';
import type { AccessLog } from './access-log.js';
import { buildEnviron, Field, splitRequestText } from './environ.js';
import { composeHead } from './head.js';
import { Input, type BodySource } from './input.js';
import { keepsAlive } from './keep-alive.js';
import type { Log } from './log.js';
import { CloseCause, Framing, RequestFlag, WriteFlag, type NativeServer } from './native/binding.js';
import type { Settings } from './options.js';
import { hasPostHooks, runPostHooks } from './post-hooks.js';
import { prepareResponseStart, type ResponseStart } from './start-response.js';

/** What every exchange of a server shares. */
/** What ended a connection, by its CLOSED cause, for log lines and the failed reads of the app. */
const CLOSED_WHY: Record<CloseCause, string> = {
  [CloseCause.Ended]: 'client disconnected',
  [CloseCause.TimedOut]: 'connection closed after socketTimeout without progress',
  [CloseCause.Aborted]: "connection closed at close()'s timeout",
};

export interface ServerContext {
  readonly native: NativeServer;
  readonly app: App;
  readonly settings: Settings;
  readonly log: Log;
  readonly accessLog: AccessLog;
  readonly environDefaults: Array<[string, unknown]>;
  /** `close()` was called: every connection closes after its current response. */
  readonly closing: boolean;
  /** The exchange needs no more events. */
  release(exchange: Exchange): void;
  /** The connection's held-back responses (CORK) must be written at the end of this turn. */
  cork(conn: number): void;
}

const enum State {
  /** The response is being produced. */
  Active,
  /** The last byte was handed to the core (END), or the connection was aborted. */
  Ended,
  /** The client went away before the end. */
  Disconnected,
}

const EMPTY = Buffer.alloc(0);

export class Exchange implements BodySource {
  readonly ctx: ServerContext;
  readonly conn: number;
  readonly flags: number;
  readonly fields: string[];
  readonly env: Environ;
  readonly input: Input;
  readonly #startedAt: number;
  #state = State.Active;
  #start: ResponseStart | undefined;
  #headSent = false;
  #framing = 0;
  #keepAlive = false;
  #bodyBytes = 0;
  #statusCode = 0;
  #wallSeconds = 0;
  /** Waiting for the core's word on the END that asked for DONE: DONE, or CLOSED after a failed one. */
  #awaitingDone = false;
  /** What CLOSED said ended the connection, once it came. */
  #closeCause: CloseCause | undefined;
  #completed = false;
  #write: WriteCallable | undefined;
  #drained: (() => void) | undefined;
  #onGone: (() => void) | undefined;

  constructor(ctx: ServerContext, conn: number, flags: number, text: string, prefix: Buffer) {
    this.ctx = ctx;
    this.conn = conn;
    this.flags = flags;
    this.#startedAt = performance.now();
    const fields = splitRequestText(text);
    this.fields = fields;
    const framing = flags & RequestFlag.BodyFraming;
    this.input = new Input(
      this,
      prefix,
      framing === 0 || (flags & RequestFlag.BodyComplete) !== 0,
      framing === RequestFlag.BodyChunked,
      (flags & RequestFlag.ExpectContinue) !== 0,
      (flags & RequestFlag.BodyPushed) !== 0,
    );
    this.env = buildEnviron(fields, flags, this.input, ctx.log.errors, ctx.environDefaults);
  }

  /** Calls the app; returns what it returned, or throws what it threw. */
  callApp(): unknown {
    return this.ctx.app(this.env, this.startResponse);
  }

  readonly startResponse: StartResponse = (status, headers, excInfo) => {
    if (excInfo !== undefined && excInfo !== null) {
      // WSGI: too late to replace the head, so the error goes back up to the app.
      if (this.#headSent) throw excInfo;
    } else if (this.#start !== undefined) {
      throw new Error('startResponse was called a second time without excInfo');
    }
    this.#start = prepareResponseStart(status, headers, this.ctx.settings.capitalizeResponseHeaders);
    return (this.#write ??= (chunk) => this.#writeCallable(chunk));
  };

  get headSent(): boolean {
    return this.#headSent;
  }

  /** The response can no longer be written: it ended, or the client left. */
  get gone(): boolean {
    return this.#state !== State.Active;
  }

  get disconnected(): boolean {
    return this.#state === State.Disconnected;
  }

  /**
   * What `pending` settles with, or `gone` as soon as the client has left: for a body that waits
   * on something else meanwhile. Only the latest call is remembered; a `Promise.race` against
   * one long-lived promise would instead keep every earlier step, and its chunk, reachable until
   * the response ends.
   */
  unlessGone<T, G>(pending: Promise<T>, gone: G): Promise<T | G> {
    if (this.#state === State.Disconnected) return Promise.resolve(gone);
    return new Promise<T | G>((resolve, reject) => {
      this.#onGone = () => resolve(gone);
      pending.then(resolve, reject);
    });
  }

  /** The whole response at once: head and body in one `respond` call with END. */
  respondWhole(body: string | Buffer | null, length: number): void {
    const start = this.#startOrThrow();
    const bodyless = this.#bodyless(start);
    const framing = bodyless ? Framing.None : start.contentLength >= 0 ? start.contentLength : length;
    const head = this.#head(start, framing, !bodyless && start.contentLength < 0 ? length : -1, false);
    this.#bodyBytes = bodyless ? 0 : Math.min(length, framing);
    let flags = this.#endFlags();
    // Another request of this connection is on its way to JS: this response may wait for its
    // answer and leave in the same write, at the latest at the end of this turn.
    if ((this.flags & RequestFlag.PipelinedNext) !== 0 && (flags & WriteFlag.Notify) === 0) {
      this.ctx.cork(this.conn);
      flags |= WriteFlag.Cork;
    }
    this.ctx.native.respond(this.conn, head, framing, bodyless ? null : body, flags);
    this.#ended();
  }

  /** The 500 for an app error (SPEC §9), replacing whatever the app started. */
  respondError(body: string): void {
    const length = Buffer.byteLength(body);
    const start = prepareResponseStart(
      '500 Internal Server Error',
      [['Content-Type', 'text/plain'], ['Content-Length', length]],
      true,
    );
    this.#start = start;
    const framing = this.env.REQUEST_METHOD === 'HEAD' ? Framing.None : length;
    const head = this.#head(start, framing, -1, true);
    this.#bodyBytes = framing === Framing.None ? 0 : length;
    this.ctx.native.respond(this.conn, head, framing, framing === Framing.None ? null : body, this.#endFlags());
    this.#ended();
  }

  /** Body bytes of a streamed response; false: wait for `drained()` before writing more. */
  writeBody(chunk: string | Buffer, length: number): boolean {
    if (this.#state !== State.Active) return true;
    if (!this.#headSent) {
      const start = this.#startOrThrow();
      const framing = this.#streamFraming(start);
      const head = this.#head(start, framing, -1, false);
      this.#count(length);
      return this.ctx.native.respond(this.conn, head, framing, this.#framing === Framing.None ? null : chunk, 0);
    }
    this.#count(length);
    return this.#framing === Framing.None ? true : this.ctx.native.write(this.conn, chunk, 0);
  }

  /** Ends a streamed response, with its last bytes if any. */
  endBody(chunk: string | Buffer | null, length: number): void {
    if (this.#state !== State.Active) return;
    if (!this.#headSent) {
      const start = this.#startOrThrow();
      const framing = this.#streamFraming(start);
      const head = this.#head(start, framing, -1, false);
      this.#count(length);
      this.ctx.native.respond(this.conn, head, framing, framing === Framing.None ? null : chunk, this.#endFlags());
    } else {
      this.#count(length);
      this.ctx.native.write(this.conn, chunk === null || this.#framing === Framing.None ? EMPTY : chunk, this.#endFlags());
    }
    this.#ended();
  }

  /** Drops the connection: the head is out, so an error can no longer become a 500. */
  abort(): void {
    if (this.#state !== State.Active) return;
    this.ctx.native.abort(this.conn);
    this.#awaitingDone = false;
    this.#ended();
  }

  drained(): Promise<void> {
    if (this.#state !== State.Active) return Promise.resolve();
    return new Promise<void>((resolve) => (this.#drained = resolve));
  }

  /** The response is over: run the post hooks and write the log line (now, or on DONE). */
  complete(): void {
    if (this.#completed) return;
    this.#completed = true;
    if (this.#state === State.Active) {
      // Nothing reached the core; make sure the connection does not wait for us.
      this.abort();
    }
    if (!this.#awaitingDone) this.#finish();
  }

  // Events from the core, routed by the server.

  onDrain(): void {
    const drained = this.#drained;
    this.#drained = undefined;
    drained?.();
  }

  /** DONE: the last byte of the response was written (`ok`), or the connection failed first. */
  onDone(ok: boolean): void {
    if (!ok) {
      this.#state = State.Disconnected;
      // The connection closes, and its CLOSED, which follows, says why for the log line.
      if (this.#closeCause === undefined) return;
    }
    this.#awaitingDone = false;
    if (this.#completed) this.#finish();
  }

  onClosed(cause: CloseCause): void {
    this.#closeCause = cause;
    // The core reports the DONE of an END before the CLOSED of its connection, so CLOSED while
    // DONE is awaited means that END was never written: the client left before the response was
    // complete, as when it leaves while the response is produced. (Taken for ended, the exchange
    // would be logged as answered, and its connection left among the closing ones for good.)
    if (this.#state === State.Active || this.#awaitingDone) this.#state = State.Disconnected;
    // The app may run on for long, or for ever: a cut response is logged now, not when it ends.
    if (this.#state === State.Disconnected) {
      this.ctx.log.line(`${this.env.REMOTE_ADDR} - ${CLOSED_WHY[cause]} before the response to "${this.requestLine}" was complete`);
    }
    this.input.fail(CLOSED_WHY[cause]);
    this.onDrain();
    this.#onGone?.();
    if (this.#awaitingDone) this.onDone(false);
  }

  // BodySource, for `wsgi.input`.

  requestBytes(max: number, fill: boolean): void {
    this.ctx.native.read(this.conn, max, fill);
  }

  sendInterim(head: string): boolean {
    if (this.#headSent || this.#state !== State.Active) return false;
    this.ctx.native.interim(this.conn, head);
    return true;
  }

  rearm(): void {
    if (this.#state === State.Active) this.ctx.native.rearm(this.conn);
  }

  // Internals.

  #writeCallable(chunk: Chunk): void {
    if (this.#start === undefined) throw new Error('write() was called before startResponse()');
    let length: number;
    if (typeof chunk === 'string') length = Buffer.byteLength(chunk);
    else if (chunk instanceof Uint8Array) length = chunk.byteLength;
    else throw new TypeError(`write() takes a string or a Uint8Array, got ${typeof chunk}`);
    // As for an empty body chunk: nothing is sent before the first non-empty one (SPEC §5), so
    // the app can still fail into a clean 500.
    if (length > 0) this.writeBody(typeof chunk === 'string' ? chunk : asBuffer(chunk), length);
  }

  #startOrThrow(): ResponseStart {
    if (this.#start === undefined) throw new Error('the app sent a body without calling startResponse()');
    return this.#start;
  }

  /** HEAD, 1xx, 204 and 304 carry no body (SPEC §8); nor does a 2xx to CONNECT (as eventlet). */
  #bodyless(start: ResponseStart): boolean {
    const code = start.statusCode;
    return code < 200 || code === 204 || code === 304 || this.env.REQUEST_METHOD === 'HEAD' || this.#tunnel(start);
  }

  /**
   * A 2xx to CONNECT turns the connection into a tunnel for the client (RFC 9110 §9.3.6), which
   * then ignores any Content-Length or Transfer-Encoding and takes body bytes as tunnel data: so
   * none are sent, and the connection closes after the head.
   */
  #tunnel(start: ResponseStart): boolean {
    return start.statusCode >= 200 && start.statusCode < 300 && this.fields[Field.Method] === 'CONNECT';
  }

  #streamFraming(start: ResponseStart): number {
    if (this.#bodyless(start)) return Framing.None;
    if (start.contentLength >= 0) return start.contentLength;
    return this.ctx.settings.http11 && (this.flags & RequestFlag.Http11) !== 0 ? Framing.Chunked : Framing.UntilClose;
  }

  /** Decides framing and persistence, and composes the head. */
  #head(start: ResponseStart, framing: number, addedLength: number, forceClose: boolean): string {
    const settings = this.ctx.settings;
    const keepAlive = !forceClose && keepsAlive({
      serverAllows: settings.keepalive && settings.http11 && !this.ctx.closing,
      flags: this.flags,
      appClose: start.connectionClose,
      framing,
      unansweredExpect: this.input.expectUnanswered && (this.flags & RequestFlag.BodyFraming) !== 0,
      tunnel: this.#tunnel(start),
    });
    this.#framing = framing;
    this.#keepAlive = keepAlive;
    this.#headSent = true;
    this.#statusCode = start.statusCode;
    return composeHead(settings.http11 ? 'HTTP/1.1' : 'HTTP/1.0', start, {
      contentLength: addedLength,
      chunked: framing === Framing.Chunked,
      close: !keepAlive,
      echoKeepAlive: (this.flags & RequestFlag.ConnectionKeepAlive) !== 0,
      keepAliveSeconds: settings.keepaliveHeaderSeconds,
    });
  }

  #count(length: number): void {
    const framing = this.#framing;
    if (framing === Framing.None) return;
    this.#bodyBytes = framing >= 0 ? Math.min(framing, this.#bodyBytes + length) : this.#bodyBytes + length;
  }

  #endFlags(): number {
    let flags: number = WriteFlag.End;
    if (this.#keepAlive) flags |= WriteFlag.KeepAlive;
    if (hasPostHooks(this.env)) {
      flags |= WriteFlag.Notify;
      this.#awaitingDone = true;
    }
    return flags;
  }

  #ended(): void {
    this.#state = State.Ended;
    this.#wallSeconds = (performance.now() - this.#startedAt) / 1000;
    this.input.fail('the response is complete: the request body can no longer be read');
    this.onDrain();
  }

  /** The response ended and left the connection open for the next request. */
  get keptAlive(): boolean {
    return this.#keepAlive && this.#state === State.Ended;
  }

  #finish(): void {
    runPostHooks(this.env, this.ctx.log);
    this.#report();
    // Last: the connection's next request may start right away, and its line comes after ours.
    this.ctx.release(this);
  }

  #report(): void {
    const ctx = this.ctx;
    // A response its connection cut was logged when CLOSED came (every such exchange gets one).
    if (this.#state === State.Disconnected) return;
    if (!ctx.settings.logOutput) return;
    ctx.log.line(ctx.accessLog.format({
      remoteAddr: this.fields[Field.RemoteAddr]!,
      remotePort: this.fields[Field.RemotePort]!,
      forwardedFor: ctx.settings.logXForwardedFor ? this.#forwardedFor() : '',
      requestLine: this.requestLine,
      statusCode: this.#statusCode,
      bodyLength: this.#bodyBytes,
      wallSeconds: this.#wallSeconds,
      headers: this.#start?.headers ?? [],
    }));
  }

  get requestLine(): string {
    const fields = this.fields;
    const version = this.flags & RequestFlag.Http11 ? 'HTTP/1.1' : 'HTTP/1.0';
    return fields[Field.Method]! + ' ' + fields[Field.Target]! + ' ' + version;
  }

  /** The first X-Forwarded-For value, from the request as received (the app may change env). */
  #forwardedFor(): string {
    const fields = this.fields;
    for (let i: number = Field.FirstHeader; i < fields.length; i += 2) {
      const name = fields[i]!;
      if (name.length === 15 && name.toLowerCase() === 'x-forwarded-for') return fields[i + 1]!;
    }
    return '';
  }
}

/** The addon takes Buffers; a plain Uint8Array becomes a view, not a copy. */
export function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
