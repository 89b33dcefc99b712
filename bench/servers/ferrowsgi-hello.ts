// ferrowsgi serving the seed's hello world.
import { listen, server } from 'ferrowsgi';
import { announce, HOST, portFromEnv } from './announce.js';
import { helloWorld } from './apps.js';

// No access log: node:http writes none, and a line per request would measure the logging.
const srv = server(listen([HOST, portFromEnv()]), helloWorld, { logOutput: false });
await srv.listening;
announce((srv.address as { port: number }).port);
