// uWebSockets.js serving the hello world: the same status, Content-Type and body as
// ferrowsgi-hello.ts. uWS.js adds Content-Length and Date itself, and a `uWebSockets` header.
import { announce, HOST, portFromEnv } from './announce.js';
import { loadUws } from './uws-native.js';

const BODY = 'Hello, World!\r\n';

const uws = loadUws();
uws.App()
  .any('/*', (res) => {
    res.writeStatus('200 OK').writeHeader('Content-Type', 'text/plain').end(BODY);
  })
  .listen(HOST, portFromEnv(), (listenSocket) => {
    if (!listenSocket) throw new Error(`uWS.js could not listen on ${HOST}:${portFromEnv()}`);
    announce(uws.us_socket_local_port(listenSocket));
  });
