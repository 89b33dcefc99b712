// ferrowsgi echoing the request body: the app reads all of it, then sends it back.
import { listen, server } from 'ferrowsgi';
import type { Environ, StartResponse } from 'ferrowsgi';
import { announce, HOST, portFromEnv } from './announce.js';

async function echo(env: Environ, startResponse: StartResponse) {
  const body = await env['wsgi.input'].read();
  startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
  return [body];
}

// No access log: node:http writes none, and a line per request would measure the logging.
const srv = server(listen([HOST, portFromEnv()]), echo, { logOutput: false });
await srv.listening;
announce((srv.address as { port: number }).port);
