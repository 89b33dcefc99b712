// The 1 KiB JSON page as a WSGI app on uWS.js, with ferrowsgi's environ (uws-wsgi.ts).
import { items } from './apps.js';
import { serveWsgiWithUws } from './uws-wsgi.js';

serveWsgiWithUws(items);
