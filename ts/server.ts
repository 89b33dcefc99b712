// `server()` (SPEC §4): drives one NativeServer and routes its events to exchanges.
import type { App } from './app.js';
import { AccessLog } from './access-log.js';
import { describeError } from './app-error.js';
import { runExchange } from './body.js';
import { environDefaults } from './environ.js';
import { Exchange, type ServerContext } from './exchange.js';
import { nativeListenerOf, type Listener, type ListenerAddressInfo } from './listen.js';
import { Log } from './log.js';
import { native, type CloseCause, type NativeServer } from './native/binding.js';
import { dispatchEvents, type EventHandler } from './native/events.js';
import { resolveOptions, type ServerOptions, type Settings } from './options.js';

export interface CloseOptions {
  /** Seconds to let requests in progress finish before their connections are dropped. */
  timeout?: number;
}

export class Server {
  readonly address: ListenerAddressInfo;
  /** Resolves once the server accepts connections. */
  readonly listening: Promise<void>;
  /** Resolves once the server has stopped and every connection is gone. */
  readonly closed: Promise<void>;
  readonly #native: NativeServer;
  readonly #router: Router;
  #closing = false;
  #isClosed = false;
  #abortTimer: NodeJS.Timeout | undefined;

  /** @internal Use `server()`. */
  constructor(listener: Listener, app: App, options?: ServerOptions) {
    if (typeof app !== 'function') throw new TypeError(`server: app must be a function, got ${typeof app}`);
    const nativeListener = nativeListenerOf(listener);
    if (nativeListener === undefined) throw new TypeError('server: the first argument must be a Listener from listen()');
    if (nativeListener.isClosed()) throw new Error('server: the listener is closed');
    if (nativeListener.isServed()) throw new Error('server: the listener is already served by another server');
    const settings = resolveOptions(options);
    const accessLog = new AccessLog(settings.logFormat, settings.logXForwardedFor);
    this.address = listener.address;

    let resolveClosed!: () => void;
    this.closed = new Promise<void>((resolve) => (resolveClosed = resolve));
    const router = new Router(app, settings, accessLog, () => {
      this.#isClosed = true;
      clearTimeout(this.#abortTimer);
      resolveClosed();
    });
    this.#native = new native.NativeServer(nativeListener, (batch, payloads) => dispatchEvents(batch, payloads, router), {
      maxRequests: settings.maxSize,
      urlLengthLimit: settings.urlLengthLimit,
      keepaliveTimeoutMs: settings.keepaliveTimeoutMs,
      socketTimeoutMs: settings.socketTimeoutMs,
      headerTimeoutMs: settings.headerTimeoutMs,
    });
    router.native = this.#native;
    this.#router = router;
    // The core accepts from construction on.
    this.listening = Promise.resolve();
  }

  /** Stops accepting and closes idle connections; requests in progress finish (at most `timeout` seconds). */
  close(options: CloseOptions | null = {}): Promise<void> {
    options ??= {};
    if (typeof options !== 'object') throw new TypeError(`close: options must be an object, got ${String(options)}`);
    for (const name of Object.keys(options)) {
      if (name !== 'timeout') throw new TypeError(`close: unknown option '${name}'`);
    }
    const { timeout } = options;
    if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout >= 0))) {
      throw new RangeError(`close: timeout must be a number of seconds >= 0, got ${String(timeout)}`);
    }
    if (this.#isClosed) return this.closed;
    if (!this.#closing) {
      this.#closing = true;
      this.#router.closing = true;
      this.#native.close();
    }
    if (timeout !== undefined && this.#abortTimer === undefined) {
      this.#abortTimer = setTimeout(() => this.#native.abortAll(), timeout * 1000);
    }
    return this.closed;
  }
}

export function server(listener: Listener, app: App, options?: ServerOptions): Server {
  return new Server(listener, app, options);
}

/** Routes the core's events to the exchange of each connection. */
class Router implements EventHandler, ServerContext {
  native!: NativeServer;
  readonly app: App;
  readonly settings: Settings;
  readonly log: Log;
  readonly accessLog: AccessLog;
  readonly environDefaults: Array<[string, unknown]>;
  closing = false;
  /** The exchange each connection is serving. */
  readonly #exchanges = new Map<number, Exchange>();
  /**
   * Pipelined requests the core handed over before the response to the one before them ended
   * (BRIDGE.md, REQUEST): each starts when its predecessor is done, as on the wire.
   */
  readonly #waiting = new Map<number, Array<[flags: number, text: string, body: Buffer]>>();
  /**
   * Connections whose last response closes them: requests the core handed over ahead of it are
   * never served. Each leaves this set at its CLOSED, which the core sends after them.
   */
  readonly #closing = new Set<number>();
  /** Connections with responses held back by CORK, written at the end of the current turn. */
  readonly #corked = new Set<number>();
  readonly #onServerClosed: () => void;

  constructor(app: App, settings: Settings, accessLog: AccessLog, onServerClosed: () => void) {
    this.app = app;
    this.settings = settings;
    this.log = new Log(settings.log);
    this.accessLog = accessLog;
    this.environDefaults = environDefaults(settings.environ);
    this.#onServerClosed = onServerClosed;
  }

  release(exchange: Exchange): void {
    const conn = exchange.conn;
    if (this.#exchanges.get(conn) !== exchange) return;
    this.#exchanges.delete(conn);
    if (!exchange.keptAlive) {
      // A client that went away has had its CLOSED already.
      if (!exchange.disconnected) this.#closing.add(conn);
      this.#waiting.delete(conn);
      return;
    }
    this.#startNext(conn);
  }

  cork(conn: number): void {
    if (this.#corked.size === 0) queueMicrotask(this.#uncork);
    this.#corked.add(conn);
  }

  readonly #uncork = (): void => {
    for (const conn of this.#corked) this.native.uncork(conn);
    this.#corked.clear();
  };

  onRequest(conn: number, flags: number, text: string, body: Buffer): void {
    if (this.#closing.has(conn)) return;
    if (this.#exchanges.has(conn)) {
      const waiting = this.#waiting.get(conn);
      if (waiting === undefined) this.#waiting.set(conn, [[flags, text, body]]);
      else waiting.push([flags, text, body]);
      return;
    }
    this.#start(conn, flags, text, body);
  }

  #startNext(conn: number): void {
    const waiting = this.#waiting.get(conn);
    if (waiting === undefined) return;
    const [flags, text, body] = waiting.shift()!;
    if (waiting.length === 0) this.#waiting.delete(conn);
    this.#start(conn, flags, text, body);
  }

  #start(conn: number, flags: number, text: string, body: Buffer): void {
    let exchange: Exchange;
    try {
      exchange = new Exchange(this, conn, flags, text, body);
    } catch (err) {
      // Only a bug can land here; it must cost this connection, never the server.
      this.log.line(`Error preparing a request:\n${describeError(err)}`);
      this.native.abort(conn);
      return;
    }
    this.#exchanges.set(conn, exchange);
    runExchange(exchange);
  }

  onData(conn: number, end: boolean, bytes: Buffer): void {
    this.#exchanges.get(conn)?.input.deliver(bytes, end);
  }

  onError(conn: number, message: string): void {
    this.#exchanges.get(conn)?.input.fail(message);
  }

  onDrain(conn: number): void {
    this.#exchanges.get(conn)?.onDrain();
  }

  onDone(conn: number, ok: boolean): void {
    this.#exchanges.get(conn)?.onDone(ok);
  }

  onClosed(conn: number, cause: CloseCause): void {
    this.#closing.delete(conn);
    this.#waiting.delete(conn);
    this.#exchanges.get(conn)?.onClosed(cause);
  }

  onLog(line: string): void {
    this.log.line(line);
  }

  onServerClosed(): void {
    this.#onServerClosed();
  }
}
