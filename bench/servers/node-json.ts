// node:http sending the bytes ferrowsgi-json.ts sends: the 1 KiB JSON page with its Content-Type,
// Content-Length and Date.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { announce, HOST, portFromEnv } from './announce.js';
import { JSON_BODY } from './json-body.js';

const srv = createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': JSON_BODY.length });
  res.end(JSON_BODY);
});
// As in node-hello.ts: no idle timeout, no `Keep-Alive` header, as ferrowsgi by default.
srv.keepAliveTimeout = 0;
srv.listen(portFromEnv(), HOST, () => announce((srv.address() as AddressInfo).port));
