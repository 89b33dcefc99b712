// Serves one app on every --bind address until SIGINT or SIGTERM, then closes gracefully.
import type { RunConfig } from './args.js';
import { showAddress } from './bind.js';
import { StartError } from './errors.js';
import { bindAll } from './listen-all.js';
import { loadApp } from './load-app.js';
import { secure } from './tls.js';
import { server, type Server } from '../server.js';

/** The exit status after a second signal, as a shell reports a process killed by it. */
const SIGNAL_STATUS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

function say(line: string): void {
  process.stderr.write(`ferrowsgi: ${line}\n`);
}

/**
 * The first SIGINT or SIGTERM stops accepting, closes idle connections and gives requests in
 * progress `timeout` seconds; a second one exits at once, for when a client holds a request open.
 */
function closeOnSignal(servers: readonly Server[], timeout: number): () => void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) {
      say(`${signal} again: exiting without waiting`);
      process.exit(SIGNAL_STATUS[signal] ?? 1);
    }
    closing = true;
    say(`${signal}: closing; requests in progress have ${timeout} s to finish`);
    for (const srv of servers) void srv.close({ timeout });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** Resolves once every server has closed after a signal. */
export async function run(config: RunConfig): Promise<void> {
  // The app first: a bad module must not leave a port bound, even briefly.
  const app = await loadApp(config.module, config.exportName);
  const listeners = await bindAll(config.binds, config);
  const tls = config.certfile !== undefined && config.keyfile !== undefined
    ? { certfile: config.certfile, keyfile: config.keyfile }
    : undefined;

  const servers: Server[] = [];
  try {
    for (const listener of listeners) {
      servers.push(server(tls ? secure(listener, tls) : listener, app, config.server));
    }
  } catch (err) {
    for (const srv of servers) void srv.close({ timeout: 0 });
    for (const listener of listeners) {
      try {
        listener.close();
      } catch {
        // Served by a server closed above.
      }
    }
    throw err instanceof StartError ? err : new StartError(err instanceof Error ? err.message : String(err));
  }

  const stopHandling = closeOnSignal(servers, config.gracefulTimeout);
  await Promise.all(servers.map((srv) => srv.listening));
  for (const srv of servers) say(`listening on ${showAddress(srv.address, tls ? 'https' : 'http')}`);
  say(`serving ${config.module}:${config.exportName} (pid ${process.pid})`);
  await Promise.all(servers.map((srv) => srv.closed));
  stopHandling();
  say('closed');
}
