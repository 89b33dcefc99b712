// uWebSockets.js sending the bytes ferrowsgi-json.ts sends: the 1 KiB JSON page with its
// Content-Type. uWS.js adds Content-Length and Date itself, and a `uWebSockets` header.
import { JSON_BODY } from './json-body.js';
import { serveWithUws } from './uws-native.js';

serveWithUws('application/json', JSON_BODY);
