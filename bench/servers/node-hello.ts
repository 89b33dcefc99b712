// node:http sending the bytes ferrowsgi sends for the seed's hello world: the same status,
// Content-Type, Content-Length and Date, on a persistent connection.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { announce, HOST, portFromEnv } from './announce.js';

const BODY = 'Hello, World!\r\n';

const srv = createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(BODY) });
  res.end(BODY);
});
// ferrowsgi closes no idle keep-alive connection by default; node's 5 s timeout would, and would
// add a `Keep-Alive: timeout=5` header to every response.
srv.keepAliveTimeout = 0;
srv.listen(portFromEnv(), HOST, () => announce((srv.address() as AddressInfo).port));
