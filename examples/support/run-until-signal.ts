// What every example does around its server, kept out of the examples so that they read like
// the seed's: pick the port, say where it listens, and close gracefully on Ctrl-C or SIGTERM.
import type { Server } from 'ferrowsgi';

/** Seconds that requests in progress get to finish after a signal before they are dropped. */
const CLOSE_TIMEOUT = 5;

/** The seed's port 8090 unless PORT is set (tests use PORT=0 to get a free one). */
export function portFromEnv(): number {
  const text = process.env.PORT;
  if (text === undefined || text === '') return 8090;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new RangeError(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(text)}`);
  }
  return port;
}

/**
 * Prints `listening on <scheme>://HOST:PORT` (one line, for people and for tests) once the
 * server accepts, and resolves when it has closed. The first SIGINT or SIGTERM closes it
 * gracefully; a second one exits at once, for when a client holds a request open.
 */
export async function runUntilSignal(srv: Server, scheme: 'http' | 'https' = 'http'): Promise<void> {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    signalled = true;
    void srv.close({ timeout: CLOSE_TIMEOUT });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  await srv.listening;
  const address = srv.address;
  if ('path' in address) {
    console.log(`listening on ${address.path}`);
  } else {
    const host = address.host.includes(':') ? `[${address.host}]` : address.host;
    console.log(`listening on ${scheme}://${host}:${address.port}`);
  }
  await srv.closed;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}
