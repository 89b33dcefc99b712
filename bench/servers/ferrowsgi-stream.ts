// ferrowsgi streaming 64 MiB from an async generator of 64 KiB Buffers (stream-body.ts): the
// server pulls the next chunk only when the socket has taken the previous ones.
import { listen, server } from 'ferrowsgi';
import type { Environ, StartResponse } from 'ferrowsgi';
import { announce, HOST, portFromEnv } from './announce.js';
import { CHUNK, CHUNKS, TOTAL_BYTES } from './stream-body.js';

async function* chunks(): AsyncGenerator<Buffer> {
  for (let i = 0; i < CHUNKS; i += 1) yield CHUNK;
}

function download(_env: Environ, startResponse: StartResponse) {
  startResponse('200 OK', [['Content-Type', 'application/octet-stream'], ['Content-Length', String(TOTAL_BYTES)]]);
  return chunks();
}

// No access log: node:http writes none, and a line per request would measure the logging.
const srv = server(listen([HOST, portFromEnv()]), download, { logOutput: false });
await srv.listening;
announce((srv.address as { port: number }).port);
