// The seed's hello world (eventlet's examples/wsgi.py), on port 8090 or $PORT.
// Run: npm start, or npx tsx examples/wsgi.ts
import { server, listen } from 'ferrowsgi';
import type { Environ, StartResponse } from 'ferrowsgi';
import { portFromEnv, runUntilSignal } from './support/run-until-signal.js';

function helloWorld(_env: Environ, startResponse: StartResponse) {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return ['Hello, World!\r\n'];
}

await runUntilSignal(server(listen(['', portFromEnv()]), helloWorld));
