// Binds every --bind address before anything is served, so that a bad one stops the start.
import { lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { listen, type Listener } from '../listen.js';
import type { Bind } from './bind.js';
import { StartError } from './errors.js';

/** Resolves once `path` accepts no connection (refused or gone), so a socket file left behind can be reused. */
function isDeadSocket(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' || err.code === 'ENOENT'));
  });
}

/**
 * A server that was killed leaves its socket file, and binding the path again fails with
 * EADDRINUSE; gunicorn removes such a file. Only a socket nobody accepts on is removed: a live
 * server keeps its path, and so the bind fails as it should.
 */
async function removeStaleSocket(path: string): Promise<void> {
  // Windows has no Unix sockets to leave behind: listen() then says they are not supported.
  if (process.platform === 'win32') return;
  let isSocket = false;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (isSocket && (await isDeadSocket(path))) {
    try {
      unlinkSync(path);
    } catch {
      // Gone already, or not ours to remove: the bind reports what is wrong.
    }
  }
}

export interface BindOptions {
  backlog: number | undefined;
  reusePort: boolean;
}

/** Binds every address, or none: on a failure the ones already bound are closed again. */
export async function bindAll(binds: readonly Bind[], options: BindOptions): Promise<Listener[]> {
  const listeners: Listener[] = [];
  try {
    for (const bind of binds) {
      if ('path' in bind) {
        await removeStaleSocket(bind.path);
        listeners.push(listen(bind.path, options.backlog === undefined ? {} : { backlog: options.backlog }));
      } else {
        listeners.push(listen([bind.host, bind.port], {
          ...(options.backlog === undefined ? {} : { backlog: options.backlog }),
          reusePort: options.reusePort,
        }));
      }
    }
  } catch (err) {
    for (const listener of listeners) listener.close();
    throw new StartError(`cannot listen: ${err instanceof Error ? err.message : String(err)}`);
  }
  return listeners;
}
