// What the kernel says about this process and its sockets, from Linux's /proc. Elsewhere the
// gauges read as undefined or 0 and the tests that use them measure nothing with them.
import { readFileSync, readdirSync } from 'node:fs';

/** This process's open file descriptors; undefined where /proc is missing. */
export function openFds(): number | undefined {
  return process.platform === 'linux' ? readdirSync('/proc/self/fd').length : undefined;
}

interface EstablishedTcp {
  localPort: number;
  remotePort: number;
  /** Bytes written and not yet acknowledged by the peer: in flight, or not sent yet. */
  sendQueue: number;
  /** Bytes received and not yet read by the socket's owner. */
  receiveQueue: number;
}

/** Every ESTABLISHED TCP socket on the machine (/proc/net/tcp and tcp6). */
function establishedTcp(): EstablishedTcp[] {
  const sockets: EstablishedTcp[] = [];
  const port = (address: string): number => parseInt(address.split(':')[1]!, 16);
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let table: string;
    try {
      table = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    for (const line of table.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 5 || fields[3] !== '01') continue;
      const [sendQueue, receiveQueue] = fields[4]!.split(':').map((hex) => parseInt(hex, 16));
      sockets.push({ localPort: port(fields[1]!), remotePort: port(fields[2]!), sendQueue: sendQueue!, receiveQueue: receiveQueue! });
    }
  }
  return sockets;
}

/** Bytes that clients sent to the server on `port` and it has not read yet. */
export function unreadByServer(port: number): number {
  return establishedTcp().reduce((sum, s) => sum + (s.localPort === port ? s.receiveQueue : 0), 0);
}

/** Bytes the server on `port` wrote that its clients have not acknowledged: in flight or unsent. */
export function unacknowledgedFromServer(port: number): number {
  return establishedTcp().reduce((sum, s) => sum + (s.localPort === port ? s.sendQueue : 0), 0);
}

/**
 * Bytes of connections to `port` that wait in kernel queues: unread by the server, or not yet
 * acknowledged by it on the client side.
 */
export function queuedBytes(port: number): number {
  return establishedTcp().reduce(
    (sum, s) => sum + (s.localPort === port ? s.receiveQueue : 0) + (s.remotePort === port ? s.sendQueue : 0),
    0,
  );
}
