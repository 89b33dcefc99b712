// uWebSockets.js sending the bytes ferrowsgi-json.ts sends: the 1 KiB JSON page with its
// Content-Type. uWS.js adds Content-Length and Date itself, and a `uWebSockets` header.
import { announce, HOST, portFromEnv } from './announce.js';
import { JSON_BODY } from './json-body.js';
import { loadUws } from './uws-native.js';

const uws = loadUws();
uws.App()
  .any('/*', (res) => {
    res.writeStatus('200 OK').writeHeader('Content-Type', 'application/json').end(JSON_BODY);
  })
  .listen(HOST, portFromEnv(), (listenSocket) => {
    if (!listenSocket) throw new Error(`uWS.js could not listen on ${HOST}:${portFromEnv()}`);
    announce(uws.us_socket_local_port(listenSocket));
  });
