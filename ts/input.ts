// `wsgi.input` (SPEC §7): the request body, read on demand from the core (BRIDGE.md `read`).
import { capitalize } from './start-response.js';

/** What the input needs from its exchange. */
export interface BodySource {
  /**
   * Asks the core for up to `max` more body bytes, answered by `deliver` or `fail`: with `fill`,
   * once `max` bytes are there or the body ended; without, as soon as any are.
   */
  requestBytes(max: number, fill: boolean): void;
  /** Writes an interim response unless the final head went out; says whether it was written. */
  sendInterim(head: string): boolean;
  /** Lets the next read decode a new chunked body (eventlet's multiple 100-continue). */
  rearm(): void;
}

const EMPTY = Buffer.alloc(0);
/** What a streaming read (lines, chunks, discard) asks of the core at a time. */
const READ_MAX = 65536;
/**
 * The most one `read()` of the whole body gathers per DATA event. A body is gathered in the
 * core and crosses to JS in few, large events: one per `read()` up to this size.
 */
const FILL_MAX = 16 * 1024 * 1024;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

export class Input implements AsyncIterable<Buffer> {
  readonly #source: BodySource;
  readonly #chunked: boolean;
  readonly #expectContinue: boolean;
  /**
   * The core is sending the whole body unasked (BRIDGE.md, BODY_PUSHED): `read()` of all of it
   * waits for that DATA instead of asking. Any other read asks, which ends the push.
   */
  #pushed: boolean;
  #continueSent = false;
  #continueHeaders = '';
  /** Unread bytes, oldest first, and their total length. */
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Where the next newline search starts in `#chunks[0]` (bytes before it hold none). */
  #scanned = 0;
  /** The core has delivered the last byte of the body. */
  #ended: boolean;
  /** Why the body cannot be read; the Error is made only if a read needs it. */
  #failure: string | undefined;
  #pending: { resolve(): void; reject(err: Error): void } | undefined;
  /** Reads run one after another, so at most one core read is outstanding. */
  #tail: Promise<unknown> | undefined;

  /** @internal Made by the server for each request. */
  constructor(source: BodySource, prefix: Buffer, ended: boolean, chunked: boolean, expectContinue: boolean, pushed: boolean) {
    this.#source = source;
    this.#chunked = chunked;
    this.#expectContinue = expectContinue;
    this.#pushed = pushed;
    this.#ended = ended;
    if (prefix.length > 0) {
      this.#chunks.push(prefix);
      this.#buffered = prefix.length;
    }
  }

  /** All remaining bytes, or up to `size` (fewer only at the end of the body). */
  read(size?: number | null): Promise<Buffer> {
    const bad = badLimit('read', 'size', size);
    if (bad !== undefined) return Promise.reject(bad);
    return this.#serialize(() => this.#read(size));
  }

  /** Up to and including the next `\n`, or `size` bytes, or what remains. */
  readline(size?: number | null): Promise<Buffer> {
    const bad = badLimit('readline', 'size', size);
    if (bad !== undefined) return Promise.reject(bad);
    return this.#serialize(() => this.#readline(size));
  }

  /** Lines until the body ends or their total length reaches `hint`. */
  readlines(hint?: number | null): Promise<Buffer[]> {
    const bad = badLimit('readlines', 'hint', hint);
    if (bad !== undefined) return Promise.reject(bad);
    return this.#serialize(async () => {
      const lines: Buffer[] = [];
      let total = 0;
      for (;;) {
        const line = await this.#readline(undefined);
        if (line.length === 0) return lines;
        lines.push(line);
        total += line.length;
        if (hint != null && hint > 0 && total >= hint) return lines;
      }
    });
  }

  /** The body line by line. */
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }

  /** The body as it arrives, for streaming. */
  async *chunks(): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      const chunk = await this.#serialize(() => this.#nextChunk());
      if (chunk.length === 0) return;
      yield chunk;
    }
  }

  /** Reads and drops the rest of the body. */
  discard(): Promise<void> {
    return this.#serialize(async () => {
      this.#sendContinue();
      for (;;) {
        this.#chunks = [];
        this.#buffered = 0;
        this.#scanned = 0;
        if (this.#ended) return;
        await this.#fill();
      }
    });
  }

  /** Headers for the `100 Continue` interim response (names capitalized, as eventlet). */
  setHundredContinueResponseHeaders(headers: ReadonlyArray<readonly [string, string | number]>): void {
    let block = '';
    for (const [name, raw] of headers) {
      const value = String(raw);
      if (typeof name !== 'string' || !TOKEN.test(name) || INVALID_VALUE.test(value)) {
        throw new TypeError(`setHundredContinueResponseHeaders: invalid header ${JSON.stringify([name, raw])}`);
      }
      block += capitalize(name) + ': ' + value + '\r\n';
    }
    this.#continueHeaders = block;
  }

  /** Writes another `100 Continue` now; a chunked body can then be read once more. */
  sendHundredContinueResponse(): void {
    if (!this.#expectContinue) return;
    // Once the response has begun no interim response can go out, and a client that was not
    // invited sends no further chunked body: the next read must not wait for one (as eventlet).
    if (!this.#source.sendInterim(this.#interimHead())) return;
    this.#continueSent = true;
    if (this.#chunked) {
      this.#source.rearm();
      this.#ended = false;
    }
  }

  set_hundred_continue_response_headers(headers: ReadonlyArray<readonly [string, string | number]>): void {
    this.setHundredContinueResponseHeaders(headers);
  }

  send_hundred_continue_response(): void {
    this.sendHundredContinueResponse();
  }

  /** @internal The client sent `Expect: 100-continue` and never got an answer. */
  get expectUnanswered(): boolean {
    return this.#expectContinue && !this.#continueSent;
  }

  /** @internal DATA from the core. */
  deliver(bytes: Buffer, end: boolean): void {
    if (bytes.length > 0) {
      this.#chunks.push(bytes);
      this.#buffered += bytes.length;
    }
    if (end) this.#ended = true;
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.resolve();
  }

  /** @internal The body cannot be read any more: this and later reads reject with `message`. */
  fail(message: string): void {
    this.#failure ??= message;
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(new Error(this.#failure));
  }

  #serialize<T>(op: () => Promise<T>): Promise<T> {
    const result = this.#tail === undefined ? op() : this.#tail.then(op);
    // The tail only orders the reads: holding the last result would keep a body the app has
    // dropped alive until the whole exchange ends.
    this.#tail = result.then(() => undefined, () => undefined);
    return result;
  }

  #interimHead(): string {
    return 'HTTP/1.1 100 Continue\r\n' + this.#continueHeaders + '\r\n';
  }

  /** The first read of an `Expect: 100-continue` request answers the client (SPEC §7). */
  #sendContinue(): void {
    if (this.#expectContinue && !this.#continueSent && this.#source.sendInterim(this.#interimHead())) {
      this.#continueSent = true;
    }
  }

  /**
   * Waits for one more DATA event (see `BodySource.requestBytes`). `whole`: the caller wants the
   * rest of the body, which a push brings anyway.
   */
  #fill(max = READ_MAX, fill = false, whole = false): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(new Error(this.#failure));
    return new Promise<void>((resolve, reject) => {
      this.#pending = { resolve, reject };
      if (this.#pushed && whole) return;
      this.#pushed = false;
      this.#source.requestBytes(max, fill);
    });
  }

  async #read(size: number | null | undefined): Promise<Buffer> {
    this.#sendContinue();
    const wanted = size == null || size < 0 ? Infinity : Math.floor(size);
    if (wanted === 0) return EMPTY;
    while (this.#buffered < wanted && !this.#ended) {
      await this.#fill(Math.min(wanted - this.#buffered, FILL_MAX), true, wanted === Infinity);
    }
    return this.#take(Math.min(wanted, this.#buffered));
  }

  async #readline(size: number | null | undefined): Promise<Buffer> {
    this.#sendContinue();
    const limit = size == null || size < 0 ? Infinity : Math.floor(size);
    if (limit === 0) return EMPTY;
    for (;;) {
      if (this.#buffered > 0) {
        if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#buffered)];
        const data = this.#chunks[0]!;
        const newline = data.indexOf(10, this.#scanned);
        if (newline >= 0 && newline < limit) return this.#take(newline + 1);
        this.#scanned = data.length;
      }
      if (this.#buffered >= limit || this.#ended) return this.#take(Math.min(limit, this.#buffered));
      await this.#fill();
    }
  }

  async #nextChunk(): Promise<Buffer> {
    this.#sendContinue();
    if (this.#buffered === 0 && !this.#ended) await this.#fill();
    return this.#take(this.#buffered);
  }

  #take(n: number): Buffer {
    if (n === 0) return EMPTY;
    this.#buffered -= n;
    this.#scanned = 0;
    const first = this.#chunks[0]!;
    if (first.length >= n) {
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const chunk = this.#chunks[0]!;
      const used = Math.min(chunk.length, n - at);
      chunk.copy(out, at, 0, used);
      at += used;
      if (used === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(used);
    }
    return out;
  }
}

/** The error for a size or hint that is neither a number nor absent (null, undefined). */
function badLimit(method: string, name: string, value: unknown): TypeError | undefined {
  if (value == null || (typeof value === 'number' && !Number.isNaN(value))) return undefined;
  return new TypeError(`wsgi.input.${method}: ${name} must be a number, null or undefined, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
}
