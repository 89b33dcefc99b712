// The seed's hello world as a WSGI app on uWS.js, with ferrowsgi's environ (uws-wsgi.ts).
import { helloWorld } from './apps.js';
import { serveWsgiWithUws } from './uws-wsgi.js';

serveWsgiWithUws(helloWorld);
