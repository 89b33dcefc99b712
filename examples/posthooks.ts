// The seed's post hooks example: every request registers a hook that runs after the response
// has been written to the socket (or the client went away), with the environ first, then the
// args, then the kwargs as one trailing object.
// Run: npx tsx examples/posthooks.ts, then curl http://localhost:8090/
import { server, listen } from 'ferrowsgi';
import type { Environ, StartResponse } from 'ferrowsgi';
import { portFromEnv, runUntilSignal } from './support/run-until-signal.js';

interface HookKwargs {
  kwarg3?: number;
  kwarg4?: number;
}

function hook(env: Environ, arg1: string, arg2: string, { kwarg3, kwarg4 }: HookKwargs = {}) {
  // As the seed, prints the environ and the arguments for every request.
  console.log('Hook called: %s %s %s %s %s', env, arg1, arg2, kwarg3, kwarg4);
}

function withHook(env: Environ, startResponse: StartResponse) {
  env['eventlet.posthooks'].push([hook, ['arg1', 'arg2'], { kwarg3: 3, kwarg4: 4 }]);
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return ['Hello, World!\r\n'];
}

await runUntilSignal(server(listen(['', portFromEnv()]), withHook));
