// node:http streaming what ferrowsgi-stream.ts streams: 64 KiB chunks written one by one, waiting
// for 'drain' whenever res.write says the socket's buffer is full, as a careful app does.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { announce, HOST, portFromEnv } from './announce.js';
import { CHUNK, CHUNKS, TOTAL_BYTES } from './stream-body.js';

const srv = createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': TOTAL_BYTES });
  let written = 0;
  const writeMore = (): void => {
    while (written < CHUNKS) {
      written += 1;
      if (!res.write(CHUNK)) {
        res.once('drain', writeMore);
        return;
      }
    }
    res.end();
  };
  writeMore();
});
// As in node-hello.ts: no idle timeout, no `Keep-Alive` header, as ferrowsgi by default.
srv.keepAliveTimeout = 0;
srv.listen(portFromEnv(), HOST, () => announce((srv.address() as AddressInfo).port));
