// `listen()`: binds synchronously, so address errors surface at the call (SPEC §2).
// On Windows the addon refuses a socket path (EAFNOSUPPORT) and `reusePort: true` (ENOTSUP), each
// with a message that says so, and ignores `reuseAddr` (crates/node/BRIDGE.md).
import { native, type NativeListener } from './native/binding.js';

export type ListenAddress = readonly [host: string, port: number] | { host?: string; port: number } | string;

export interface ListenOptions {
  /** Pending-connection queue length (default 50, as eventlet). */
  backlog?: number;
  /**
   * SO_REUSEADDR (default true). Ignored on Windows, whose SO_REUSEADDR would let another socket
   * bind the same port.
   */
  reuseAddr?: boolean;
  /** SO_REUSEPORT (default false). Unix only: `true` throws (`ENOTSUP`) on Windows. */
  reusePort?: boolean;
}

export type ListenerAddressInfo = { host: string; port: number } | { path: string };

const nativeListeners = new WeakMap<Listener, NativeListener>();

export class Listener {
  readonly #native: NativeListener;

  /** @internal Use `listen()`. */
  constructor(nativeListener: NativeListener) {
    this.#native = nativeListener;
    nativeListeners.set(this, nativeListener);
  }

  get address(): ListenerAddressInfo {
    const address = this.#native.address();
    if (typeof address.path === 'string') return { path: address.path };
    return { host: address.host ?? '', port: address.port ?? 0 };
  }

  close(): void {
    this.#native.close();
  }
}

/** The addon's listener behind a `Listener`, for `server()`; undefined for anything else. */
export function nativeListenerOf(listener: unknown): NativeListener | undefined {
  return typeof listener === 'object' && listener !== null ? nativeListeners.get(listener as Listener) : undefined;
}

export function listen(address: ListenAddress, options: ListenOptions | null = {}): Listener {
  options ??= {};
  if (typeof options !== 'object') throw new TypeError(`listen: options must be an object, got ${String(options)}`);
  const { backlog = 50, reuseAddr = true, reusePort = false } = options;
  for (const name of Object.keys(options)) {
    if (name !== 'backlog' && name !== 'reuseAddr' && name !== 'reusePort') {
      throw new TypeError(`listen: unknown option '${name}'`);
    }
  }
  if (!Number.isInteger(backlog) || backlog < 0 || backlog > 0x7fffffff) {
    throw new RangeError(`listen: backlog must be a non-negative integer, got ${String(backlog)}`);
  }
  if (typeof reuseAddr !== 'boolean') throw new TypeError(`listen: reuseAddr must be a boolean, got ${String(reuseAddr)}`);
  if (typeof reusePort !== 'boolean') throw new TypeError(`listen: reusePort must be a boolean, got ${String(reusePort)}`);

  if (typeof address === 'string') {
    if (address === '') throw new TypeError('listen: a Unix socket path must not be empty');
    return new Listener(withErrorCode(() => native.listenUnix(address, backlog)));
  }
  const [host, port] = Array.isArray(address)
    ? address
    : typeof address === 'object' && address !== null
      ? [(address as { host?: string }).host ?? '', (address as { port: number }).port]
      : [undefined, undefined];
  if (typeof host !== 'string') {
    throw new TypeError(`listen: address must be [host, port], { host, port } or a socket path, got ${String(address)}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`listen: port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  // eventlet's '' means every interface.
  const bindHost = host === '' ? '0.0.0.0' : host;
  return new Listener(withErrorCode(() => native.listenTcp(bindHost, port, backlog, reuseAddr, reusePort)));
}

/** The addon reports `EADDRINUSE: address already in use …`; Node code expects `err.code`. */
function withErrorCode<T>(bind: () => T): T {
  try {
    return bind();
  } catch (err) {
    if (err instanceof Error) {
      const code = /^(E[A-Z0-9]+): /.exec(err.message)?.[1];
      if (code !== undefined) (err as NodeJS.ErrnoException).code = code;
    }
    throw err;
  }
}
