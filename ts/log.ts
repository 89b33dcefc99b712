// The server log: access lines, app errors, lines from the core, and `wsgi.errors`.
import { Writable } from 'node:stream';
import type { LogTarget } from './options.js';

export class Log {
  readonly #target: LogTarget;
  /** Lines for a stream target, written together once the current event batch is handled. */
  #pending = '';
  #errors: Writable | undefined;

  constructor(target: LogTarget) {
    this.#target = target;
  }

  /** Writes one line (without its newline). */
  line(text: string): void {
    const target = this.#target;
    if (typeof target === 'function') {
      target(text);
      return;
    }
    // Under load one write per batch costs far less than one per request.
    if (this.#pending === '') queueMicrotask(this.#flush);
    this.#pending += text + '\n';
  }

  readonly #flush = (): void => {
    const text = this.#pending;
    this.#pending = '';
    (this.#target as { write(text: string): unknown }).write(text);
  };

  /** `wsgi.errors`: a stream into this log, shared by every request of the server. */
  get errors(): Writable {
    this.#errors ??= new Writable({
      decodeStrings: false,
      write: (chunk: string | Buffer, _encoding, callback) => {
        const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
        const target = this.#target;
        if (typeof target === 'function') target(text.endsWith('\n') ? text.slice(0, -1) : text);
        else {
          if (this.#pending !== '') this.#flush();
          target.write(text);
        }
        callback();
      },
    });
    return this.#errors;
  }
}
