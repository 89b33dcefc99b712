// The WSGI apps of the hello world and 16-header scenarios, shared by ferrowsgi and the
// uWS.js+environ peer so that both run the very same function.
import type { Environ, StartResponse } from 'ferrowsgi';
import { JSON_BODY } from './json-body.js';

/** The seed's hello world. */
export function helloWorld(_env: Environ, startResponse: StartResponse) {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return ['Hello, World!\r\n'];
}

/** One page of a JSON listing (json-body.ts). */
export function items(_env: Environ, startResponse: StartResponse) {
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  return [JSON_BODY];
}
