// A real TLS client's first flight, for tests that replay all or part of a handshake by hand.
import net from 'node:net';
import tls from 'node:tls';
import { within } from './util.js';

/** The first bytes node:tls sends as a client (a complete ClientHello), captured by a plain TCP server. */
export async function realClientHello(): Promise<Buffer> {
  const capture = net.createServer();
  const hello = new Promise<Buffer>((resolve) => capture.once('connection', (socket) => socket.once('data', resolve)));
  await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
  const client = tls.connect({ host: '127.0.0.1', port: (capture.address() as net.AddressInfo).port, servername: 'localhost' });
  client.on('error', () => undefined);
  try {
    return await within(hello, 5000, 'a ClientHello');
  } finally {
    client.destroy();
    capture.close();
  }
}
