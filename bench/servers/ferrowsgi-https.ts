// ferrowsgi serving the seed's hello world over HTTPS, as the seed's SSL example does.
import { listen, server, wrapSsl } from 'ferrowsgi';
import { announce, HOST, portFromEnv, tlsFilesFromEnv } from './announce.js';
import { helloWorld } from './apps.js';

const { certfile, keyfile } = tlsFilesFromEnv();
// No access log: node:https writes none, and a line per request would measure the logging.
const srv = server(wrapSsl(listen([HOST, portFromEnv()]), { certfile, keyfile, serverSide: true }), helloWorld, { logOutput: false });
await srv.listening;
announce((srv.address as { port: number }).port, 'https');
