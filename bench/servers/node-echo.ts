// node:http echoing the request body as ferrowsgi-echo.ts does: collect all of it, then send it
// back with a Content-Length.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { announce, HOST, portFromEnv } from './announce.js';

const srv = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
    res.end(body);
  });
});
// As in node-hello.ts: no idle timeout, no `Keep-Alive` header, as ferrowsgi by default.
srv.keepAliveTimeout = 0;
srv.listen(portFromEnv(), HOST, () => announce((srv.address() as AddressInfo).port));
