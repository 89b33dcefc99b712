// ferrowsgi answering a browser-like request with a 1 KiB JSON page (json-body.ts).
import { listen, server } from 'ferrowsgi';
import { announce, HOST, portFromEnv } from './announce.js';
import { items } from './apps.js';

// No access log: node:http writes none, and a line per request would measure the logging.
const srv = server(listen([HOST, portFromEnv()]), items, { logOutput: false });
await srv.listening;
announce((srv.address as { port: number }).port);
