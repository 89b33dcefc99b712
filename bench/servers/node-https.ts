// node:https sending the bytes ferrowsgi-https.ts sends, with the same certificate: the
// HTTPS counterpart of node-hello.ts.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { announce, HOST, portFromEnv, tlsFilesFromEnv } from './announce.js';

const BODY = 'Hello, World!\r\n';
const { certfile, keyfile } = tlsFilesFromEnv();

const srv = createServer({ cert: readFileSync(certfile), key: readFileSync(keyfile) }, (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(BODY) });
  res.end(BODY);
});
// As in node-hello.ts: no idle timeout, no `Keep-Alive` header, as ferrowsgi by default.
srv.keepAliveTimeout = 0;
srv.listen(portFromEnv(), HOST, () => announce((srv.address() as AddressInfo).port, 'https'));
