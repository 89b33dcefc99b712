// The server log: access lines, app errors, lines from the core, and `wsgi.errors`.
import { Writable } from 'node:stream';
import type { LogTarget } from './options.js';

export class Log {
  readonly #target: LogTarget;
  /** Lines for a stream target, written together once the current event batch is handled. */
  #pending = '';
  #errors: Writable | undefined;
  #failed = false;

  constructor(target: LogTarget) {
    this.#target = target;
  }

  /** Writes one line (without its newline). */
  line(text: string): void {
    if (typeof this.#target === 'function') {
      this.#emit(text);
      return;
    }
    // Under load one write per batch costs far less than one per request.
    if (this.#pending === '') queueMicrotask(this.#flush);
    this.#pending += text + '\n';
  }

  readonly #flush = (): void => {
    const text = this.#pending;
    this.#pending = '';
    this.#emit(text);
  };

  /**
   * Hands `text` to the target. A target that throws loses that text but must not take the
   * server down (SPEC §9): it is reported once, as a process warning, since the log itself is
   * what failed.
   */
  #emit(text: string): void {
    const target = this.#target;
    try {
      if (typeof target === 'function') target(text);
      else target.write(text);
    } catch (err) {
      if (this.#failed) return;
      this.#failed = true;
      process.emitWarning(`the server's log target threw, so log lines are being lost: ${(err as Error)?.message ?? String(err)}`, {
        code: 'FERROWSGI_LOG_FAILED',
      });
    }
  }

  /** `wsgi.errors`: a stream into this log, shared by every request of the server. */
  get errors(): Writable {
    this.#errors ??= new Writable({
      decodeStrings: false,
      write: (chunk: string | Buffer, _encoding, callback) => {
        const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
        if (typeof this.#target === 'function') this.#emit(text.endsWith('\n') ? text.slice(0, -1) : text);
        else {
          if (this.#pending !== '') this.#flush();
          this.#emit(text);
        }
        callback();
      },
    });
    return this.#errors;
  }
}
