// The application contract (SPEC §5, §6, §11): what an app receives and may return.
import type { Writable } from 'node:stream';
import type { Input } from './input.js';

export type Chunk = string | Uint8Array;

/** What an app returns: chunks to send, and optionally `close()`, called once when the response is over. */
export type Body = (Iterable<Chunk> | AsyncIterable<Chunk>) & { close?(): unknown };

export type HeaderValue = string | number;

/** The legacy WSGI write callable: sends the head (once) and then `chunk`, before the returned body. */
export type WriteCallable = (chunk: Chunk) => void;

export type StartResponse = (
  status: string,
  headers: ReadonlyArray<readonly [name: string, value: HeaderValue]>,
  excInfo?: unknown,
) => WriteCallable;

export type App = (environ: Environ, startResponse: StartResponse) => Body | Promise<Body>;

/** `[func, args, kwargs]`: run after the response as `func(env, ...args, kwargs)`. */
export type PostHook = readonly [
  hook: (environ: Environ, ...args: any[]) => unknown,
  args?: readonly unknown[],
  kwargs?: Record<string, unknown>,
];

export interface Environ {
  REQUEST_METHOD: string;
  SCRIPT_NAME: string;
  PATH_INFO: string;
  RAW_PATH_INFO: string;
  QUERY_STRING: string;
  CONTENT_TYPE: string;
  CONTENT_LENGTH?: string;
  SERVER_NAME: string;
  SERVER_PORT: string;
  SERVER_PROTOCOL: string;
  REMOTE_ADDR: string;
  REMOTE_PORT: string;
  GATEWAY_INTERFACE: string;
  headers_raw: Array<[name: string, value: string]>;
  'wsgi.version': readonly [1, 0];
  'wsgi.url_scheme': string;
  'wsgi.input': Input;
  'wsgi.errors': Writable;
  'wsgi.multithread': boolean;
  'wsgi.multiprocess': boolean;
  'wsgi.run_once': boolean;
  'wsgi.input_terminated': boolean;
  'eventlet.input': Input;
  'eventlet.posthooks': PostHook[];
  /** `'on'` on a TLS connection (a listener from `wrapSsl`). */
  HTTPS?: string;
  /** The subject of the client's verified certificate, as Apache names and writes it: `CN=client,O=Example`. */
  SSL_CLIENT_S_DN?: string;
  /** Set by the app to override `minimumChunkSize` for this response; read when the app returns. */
  'eventlet.minimum_write_chunk_size'?: number;
  [header: `HTTP_${string}`]: string | undefined;
  [key: string]: unknown;
}
