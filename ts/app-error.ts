// What an app error becomes (SPEC §9): a 500 while nothing was sent, else a dropped connection.
import type { Exchange } from './exchange.js';

export function failRequest(exchange: Exchange, err: unknown): void {
  // After a disconnect the error is only its echo (a rejected read, a failed write): the
  // disconnect itself is logged once, without a stack (eventlet users' most common complaint).
  if (exchange.disconnected) return;
  const text = describeError(err);
  const { log, settings } = exchange.ctx;
  log.line(`Error in the app answering "${exchange.requestLine}" for ${exchange.env.REMOTE_ADDR}:\n${text}`);
  if (exchange.gone) return;
  if (exchange.headSent) exchange.abort();
  else exchange.respondError(settings.debug ? text : '');
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  try {
    return `Thrown value: ${String(err)}`;
  } catch {
    return `Thrown value: ${Object.prototype.toString.call(err)}`;
  }
}
