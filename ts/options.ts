// `server()` options (SPEC §4): validated once, defaults filled, so the request path trusts them.
import type { Environ } from './app.js';

/** Where log lines go: a writable stream (gets `line + '\n'`) or a function (gets the line). */
export type LogTarget = { write(text: string): unknown } | ((line: string) => void);

export interface ServerOptions {
  log?: LogTarget;
  environ?: Partial<Environ> & Record<string, unknown>;
  maxSize?: number;
  maxHttpVersion?: 'HTTP/1.0' | 'HTTP/1.1';
  minimumChunkSize?: number;
  logXForwardedFor?: boolean;
  keepalive?: boolean | number;
  logOutput?: boolean;
  logFormat?: string;
  urlLengthLimit?: number;
  debug?: boolean;
  socketTimeout?: number | null;
  headerTimeout?: number | false;
  capitalizeResponseHeaders?: boolean;
}

const DEFAULT_LOG_FORMAT =
  '%(client_ip)s - - [%(date_time)s] "%(request_line)s" %(status_code)s %(body_length)s %(wall_seconds).6f';

export interface Settings {
  log: LogTarget;
  environ: Record<string, unknown> | undefined;
  maxSize: number;
  /** maxHttpVersion is 'HTTP/1.1'. */
  http11: boolean;
  minimumChunkSize: number;
  logXForwardedFor: boolean;
  /** false: one request per connection. */
  keepalive: boolean;
  /** Seconds for `Keep-Alive: timeout=N`, 0 when not sent. */
  keepaliveHeaderSeconds: number;
  keepaliveTimeoutMs: number;
  logOutput: boolean;
  logFormat: string;
  urlLengthLimit: number;
  debug: boolean;
  socketTimeoutMs: number;
  /** From the first byte of a request head to its end; 0: no limit. */
  headerTimeoutMs: number;
  capitalizeResponseHeaders: boolean;
}

const KNOWN = new Set([
  'log', 'environ', 'maxSize', 'maxHttpVersion', 'minimumChunkSize', 'logXForwardedFor', 'keepalive',
  'logOutput', 'logFormat', 'urlLengthLimit', 'debug', 'socketTimeout', 'headerTimeout', 'capitalizeResponseHeaders',
]);

/** Seconds a request head may take from its first byte to its end, unless `headerTimeout` says otherwise. */
const DEFAULT_HEADER_TIMEOUT_SECONDS = 60;

/** The bridge carries milliseconds as u32. */
const MAX_SECONDS = 0xffffffff / 1000;

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function boolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`server: ${name} must be a boolean, got ${show(value)}`);
  return value;
}

function integer(name: string, value: unknown, fallback: number, min: number, max = 0xffffffff): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`server: ${name} must be a number, got ${show(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`server: ${name} must be an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return value;
}

function seconds(name: string, value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(`server: ${name} must be a number of seconds, got ${show(value)}`);
  if (!(value >= 0 && value <= MAX_SECONDS)) {
    throw new RangeError(`server: ${name} must be from 0 to ${MAX_SECONDS} seconds, got ${show(value)}`);
  }
  return value;
}

export function resolveOptions(options: ServerOptions | undefined): Settings {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') throw new TypeError(`server: options must be an object, got ${show(options)}`);
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name)) throw new TypeError(`server: unknown option '${name}'`);
  }
  const o = options as Record<string, unknown>;

  const log = o.log ?? process.stderr;
  if (typeof log !== 'function' && (typeof log !== 'object' || typeof (log as { write?: unknown }).write !== 'function')) {
    throw new TypeError(`server: log must be a writable stream or a function, got ${show(log)}`);
  }

  const environ = o.environ;
  if (environ !== undefined && (typeof environ !== 'object' || environ === null || Array.isArray(environ))) {
    throw new TypeError(`server: environ must be an object, got ${show(environ)}`);
  }

  const maxHttpVersion = o.maxHttpVersion ?? 'HTTP/1.1';
  if (maxHttpVersion !== 'HTTP/1.1' && maxHttpVersion !== 'HTTP/1.0') {
    throw new RangeError(`server: maxHttpVersion must be 'HTTP/1.0' or 'HTTP/1.1', got ${show(maxHttpVersion)}`);
  }

  let keepalive = true;
  let keepaliveTimeoutMs = 0;
  let keepaliveHeaderSeconds = 0;
  if (typeof o.keepalive === 'number') {
    const timeout = seconds('keepalive', o.keepalive);
    // eventlet: keepalive=0 is the same as false.
    keepalive = timeout > 0;
    keepaliveTimeoutMs = Math.ceil(timeout * 1000);
    keepaliveHeaderSeconds = Math.floor(timeout);
  } else {
    keepalive = boolean('keepalive', o.keepalive, true);
  }

  const logFormat = o.logFormat ?? DEFAULT_LOG_FORMAT;
  if (typeof logFormat !== 'string') throw new TypeError(`server: logFormat must be a string, got ${show(logFormat)}`);

  const socketTimeout = o.socketTimeout;
  const socketTimeoutMs = socketTimeout === undefined || socketTimeout === null
    ? 0
    : Math.ceil(seconds('socketTimeout', socketTimeout) * 1000);

  // Not in eventlet: without it a client sending a head one byte at a time (slowloris) holds
  // its connection for as long as it likes whenever socketTimeout is unset.
  const headerTimeout = o.headerTimeout === undefined ? DEFAULT_HEADER_TIMEOUT_SECONDS : o.headerTimeout;
  const headerTimeoutMs = headerTimeout === false ? 0 : Math.ceil(seconds('headerTimeout', headerTimeout) * 1000);

  return {
    log: log as LogTarget,
    environ: environ as Record<string, unknown> | undefined,
    maxSize: integer('maxSize', o.maxSize, 1024, 1),
    http11: maxHttpVersion === 'HTTP/1.1',
    minimumChunkSize: integer('minimumChunkSize', o.minimumChunkSize, 4096, 0, Number.MAX_SAFE_INTEGER),
    logXForwardedFor: boolean('logXForwardedFor', o.logXForwardedFor, true),
    keepalive,
    keepaliveHeaderSeconds,
    keepaliveTimeoutMs,
    logOutput: boolean('logOutput', o.logOutput, true),
    logFormat,
    urlLengthLimit: integer('urlLengthLimit', o.urlLengthLimit, 8192, 1),
    debug: boolean('debug', o.debug, true),
    socketTimeoutMs,
    headerTimeoutMs,
    capitalizeResponseHeaders: boolean('capitalizeResponseHeaders', o.capitalizeResponseHeaders, true),
  };
}
