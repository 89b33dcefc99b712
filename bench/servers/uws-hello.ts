// uWebSockets.js serving the hello world: the same status, Content-Type and body as
// ferrowsgi-hello.ts. uWS.js adds Content-Length and Date itself, and a `uWebSockets` header.
import { serveWithUws } from './uws-native.js';

serveWithUws('text/plain', 'Hello, World!\r\n');
