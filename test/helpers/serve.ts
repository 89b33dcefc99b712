// Starts servers for tests and makes sure none outlives its test.
import { listen, server } from '../../ts/index.js';
import { destroyAllSockets } from './raw-client.js';

export type App = Parameters<typeof server>[1];
export type ServerOptions = NonNullable<Parameters<typeof server>[2]>;
export type Server = ReturnType<typeof server>;
export type Listener = ReturnType<typeof listen>;

const servers = new Set<Server>();
const listeners = new Set<Listener>();

export interface Served {
  port: number;
  server: Server;
  /** the log, one entry per line (trailing newlines removed) */
  logLines: () => string[];
  /** the whole log as one text */
  logText: () => string;
  close: (options?: { timeout?: number }) => Promise<void>;
}

/** A log sink for the `log` option, used as a function. */
export function logCollector() {
  const entries: string[] = [];
  return {
    log: (line: string) => {
      entries.push(String(line));
    },
    lines: () =>
      entries
        .join('\n')
        .split('\n')
        .map((l) => l.replace(/\r$/, ''))
        .filter((l) => l.length > 0),
    text: () => entries.join('\n'),
  };
}

/** Records a listener so that cleanup() closes it even when the test throws. */
export function track<T extends Listener>(l: T): T {
  listeners.add(l);
  return l;
}

/** Records a server so that cleanup() closes it even when the test throws. */
export function trackServer<T extends Server>(s: T): T {
  servers.add(s);
  return s;
}

/** Serves `app` on an existing listener, with the log collected. */
export async function serveOn(listener: Listener, app: App, options: ServerOptions = {}): Promise<Served> {
  const collector = logCollector();
  const srv = trackServer(server(listener, app, { log: collector.log, ...options } as ServerOptions));
  await srv.listening;
  const address = srv.address as { port?: number; path?: string };
  return {
    port: address.port ?? -1,
    server: srv,
    logLines: collector.lines,
    logText: collector.text,
    close: async (closeOptions) => {
      servers.delete(srv);
      await srv.close(closeOptions);
    },
  };
}

/** Serves `app` on 127.0.0.1 with a free port, with the log collected. */
export async function serve(app: App, options: ServerOptions = {}): Promise<Served> {
  const listener = track(listen(['127.0.0.1', 0]));
  return serveOn(listener, app, options);
}

/** Closes every socket, server and listener the helpers opened (call from afterEach). */
export async function cleanup(): Promise<void> {
  destroyAllSockets();
  const closing = [...servers].map((s) => s.close({ timeout: 1 }).catch(() => undefined));
  servers.clear();
  await Promise.all(closing);
  for (const l of listeners) {
    try {
      l.close();
    } catch {
      // already closed by its server
    }
  }
  listeners.clear();
}
