// Raw TCP / Unix-socket clients for exact bytes on the wire.
import net from 'node:net';
import { parseResponse, type ParseOptions, type ParsedResponse } from './http-parse.js';

export type Target = number | { path: string } | { host: string; port: number };

const openSockets = new Set<net.Socket>();

/** Destroys every socket the helpers opened that is still open (call from afterEach). */
export function destroyAllSockets(): void {
  for (const s of openSockets) s.destroy();
  openSockets.clear();
}

function connectOptions(target: Target): net.NetConnectOpts {
  if (typeof target === 'number') return { host: '127.0.0.1', port: target };
  if ('path' in target) return { path: target.path };
  return { host: target.host, port: target.port };
}

/** Opens a connection; rejects with the socket error (e.g. ECONNREFUSED). */
export function connect(target: Target, timeoutMs = 3000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(connectOptions(target));
    openSockets.add(socket);
    socket.once('close', () => openSockets.delete(socket));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${JSON.stringify(target)} timed out`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}

/**
 * Sends `bytes` on a fresh connection and resolves with everything received until the server
 * closes the connection, or until `timeoutMs` passes (then the socket is destroyed and what
 * came so far is returned).
 */
export async function rawRequest(target: Target, bytes: string | Buffer, timeoutMs = 3000): Promise<Buffer> {
  const conn = await RawConnection.open(target);
  try {
    await conn.write(bytes);
    await conn.waitClosed(timeoutMs);
    return conn.received;
  } finally {
    conn.destroy();
  }
}

/** Like rawRequest, but also reports whether the server closed the connection in time. */
export async function rawExchange(
  target: Target,
  bytes: string | Buffer,
  timeoutMs = 3000,
): Promise<{ data: Buffer; closed: boolean }> {
  const conn = await RawConnection.open(target);
  try {
    await conn.write(bytes);
    const closed = await conn.waitClosed(timeoutMs);
    return { data: conn.received, closed };
  } finally {
    conn.destroy();
  }
}

/** A connection to write and read incrementally. */
export class RawConnection {
  /** every byte received so far */
  received: Buffer = Buffer.alloc(0);
  /** bytes received and not yet consumed by readResponse/readBytes */
  private pending: Buffer = Buffer.alloc(0);
  private ended = false;
  private error: Error | undefined;
  private waiters = new Set<() => void>();

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.pending = Buffer.concat([this.pending, chunk]);
      this.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('close', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('error', (err) => {
      // ECONNRESET / EPIPE: the server went away. Treat as the end of the stream.
      this.error = err;
      this.ended = true;
      this.notify();
    });
  }

  static async open(target: Target): Promise<RawConnection> {
    const socket = await connect(target);
    return new RawConnection(socket);
  }

  /** the local port of this client socket (what the server sees as REMOTE_PORT) */
  get localPort(): number {
    return this.socket.localPort!;
  }

  /** true once the server closed (or reset) the connection */
  get closed(): boolean {
    return this.ended;
  }

  /** bytes received and not consumed yet */
  get unread(): Buffer {
    return this.pending;
  }

  private notify() {
    for (const w of [...this.waiters]) w();
  }

  /** Waits until `check` returns a value other than undefined; rejects after timeoutMs. */
  private waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = () => {
        let value: T | undefined;
        try {
          value = check();
        } catch (err) {
          this.waiters.delete(waiter);
          clearTimeout(timer);
          reject(err);
          return;
        }
        if (value !== undefined) {
          this.waiters.delete(waiter);
          clearTimeout(timer);
          resolve(value);
        }
      };
      timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; unread bytes: ` +
              JSON.stringify(this.pending.toString('latin1')) +
              (this.ended ? ' (connection closed)' : ' (connection open)'),
          ),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
      waiter();
    });
  }

  /** Writes bytes; resolves once they were handed to the kernel. Ignores a closed socket. */
  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed || !this.socket.writable) {
        resolve();
        return;
      }
      this.socket.write(data, () => resolve());
    });
  }

  /** Half-closes the connection (sends FIN). */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Reads and consumes one response (an interim 1xx response counts as one). */
  readResponse(options: ParseOptions & { timeoutMs?: number } = {}): Promise<ParsedResponse> {
    return this.waitFor(
      () => {
        if (this.pending.length === 0 && this.ended) {
          throw new Error('connection closed before any response byte' + (this.error ? ` (${this.error.message})` : ''));
        }
        const r = parseResponse(this.pending, this.ended, options);
        if (!r) return undefined;
        this.pending = this.pending.subarray(r.consumed);
        return r.response;
      },
      options.timeoutMs ?? 5000,
      'a response',
    );
  }

  /** Reads the final response, skipping (and returning) the interim 1xx responses before it. */
  async readFinalResponse(
    options: ParseOptions & { timeoutMs?: number } = {},
  ): Promise<{ interim: ParsedResponse[]; response: ParsedResponse }> {
    const interim: ParsedResponse[] = [];
    for (;;) {
      const r = await this.readResponse(options);
      if (r.status >= 200) return { interim, response: r };
      interim.push(r);
    }
  }

  /** Reads and consumes exactly n bytes. */
  readBytes(n: number, timeoutMs = 5000): Promise<Buffer> {
    return this.waitFor(
      () => {
        if (this.pending.length >= n) {
          const out = this.pending.subarray(0, n);
          this.pending = this.pending.subarray(n);
          return out;
        }
        if (this.ended) throw new Error(`connection closed after ${this.pending.length} of ${n} bytes`);
        return undefined;
      },
      timeoutMs,
      `${n} bytes`,
    );
  }

  /** Reads and consumes bytes up to and including `marker`. */
  readUntil(marker: string, timeoutMs = 5000): Promise<Buffer> {
    return this.waitFor(
      () => {
        const at = this.pending.indexOf(marker);
        if (at >= 0) {
          const out = this.pending.subarray(0, at + marker.length);
          this.pending = this.pending.subarray(at + marker.length);
          return out;
        }
        if (this.ended) {
          throw new Error(
            `connection closed before ${JSON.stringify(marker)}; unread: ${JSON.stringify(this.pending.toString('latin1'))}`,
          );
        }
        return undefined;
      },
      timeoutMs,
      JSON.stringify(marker),
    );
  }

  /** Resolves true when the server closes the connection within timeoutMs, false otherwise. */
  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    try {
      await this.waitFor(() => (this.ended ? true : undefined), timeoutMs, 'the connection to close');
      return true;
    } catch {
      return false;
    }
  }

  /** Resolves with whatever arrives (unconsumed) within ms; does not consume it. */
  async unreadAfter(ms: number): Promise<Buffer> {
    await new Promise((r) => setTimeout(r, ms));
    return this.pending;
  }

  /** Consumes and returns everything until the server closes the connection. */
  async readToEnd(timeoutMs = 5000): Promise<Buffer> {
    await this.waitFor(() => (this.ended ? true : undefined), timeoutMs, 'the connection to close');
    const out = this.pending;
    this.pending = Buffer.alloc(0);
    return out;
  }
}
