// The client of the idle keep-alive scenario: many connections to one server, each sending the
// scenario's request once and reading the whole answer, then staying open and silent, as the
// idle connections of browsers behind a busy site do. What they cost the server is read from its
// RSS by bench/run.ts.
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { connectTo, exchange, requestBytes, type ProbeRequest } from './probe.js';

/**
 * Connections being opened at once. Servers listen with a small backlog (ferrowsgi: 50, as
 * eventlet), and a connect beyond it waits a second for the SYN to be sent again.
 */
const CONCURRENCY = 32;
/** Descriptors the harness needs besides the idle connections: stdio, pipes to the servers, wrk. */
const SPARE_DESCRIPTORS = 100;

export interface IdleConnections {
  /** Connections the server has closed or reset since they were opened. */
  readonly lost: number;
  close(): void;
}

/**
 * Why `count` connections cannot be opened from this process, or undefined when they can. Node
 * raises its soft limit on open files to the hard one at start-up, so the hard limit is what
 * counts, for the servers as for this client; only root can raise it (`ulimit -Hn`).
 */
export function descriptorShortage(count: number): string | undefined {
  let limits: string;
  try {
    limits = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined; // not Linux: the connects will tell
  }
  const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
  if (soft === undefined || soft === 'unlimited' || Number(soft) >= count + SPARE_DESCRIPTORS) return undefined;
  return `${count.toLocaleString('en')} connections need more open files than the limit of ${soft}; raise it (as root: ulimit -n 65536) and run again`;
}

/** Opens `count` connections to `baseUrl` and resolves once every one of them has had its answer. */
export async function openIdleConnections(baseUrl: string, req: ProbeRequest, count: number): Promise<IdleConnections> {
  const url = new URL(req.path, baseUrl);
  const request = requestBytes(url, req);
  const sockets: Socket[] = [];
  let lost = 0;
  const openOne = async (): Promise<void> => {
    const socket = connectTo(url);
    sockets.push(socket);
    let answered = false;
    // Once answered, a connection that the server closes or resets is lost ('close' follows any
    // 'error'); before, exchange() reports the failure.
    socket.on('error', () => {}).once('close', () => {
      if (answered) lost += 1;
    });
    const response = await exchange(socket, request);
    if (response.status !== 200) throw new Error(`an idle connection was answered ${response.status}, not 200`);
    answered = true;
  };
  // After a failure, the other openers stop at their next connection; all opened are then closed.
  let failure: { error: unknown } | undefined;
  const opening = async (): Promise<void> => {
    try {
      while (failure === undefined && sockets.length < count) await openOne();
    } catch (error) {
      failure ??= { error };
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, opening));
  if (failure !== undefined) {
    for (const socket of sockets) socket.destroy();
    throw failure.error;
  }
  return {
    get lost() {
      return lost;
    },
    close() {
      for (const socket of sockets) {
        socket.removeAllListeners('close');
        socket.destroy();
      }
    },
  };
}
