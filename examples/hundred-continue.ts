// The seed's "100 Continue" response headers example: an echo server whose interim
// `HTTP/1.1 100 Continue` carries two extra headers. The interim response goes out when the app
// first reads the body, never before, and never when it doesn't read.
// Run: npx tsx examples/hundred-continue.ts, then
//   curl -v -H 'Expect: 100-continue' --data-binary 'some text' http://localhost:8090/
import { server, listen } from 'ferrowsgi';
import type { Environ, StartResponse } from 'ferrowsgi';
import { portFromEnv, runUntilSignal } from './support/run-until-signal.js';

async function echo(env: Environ, startResponse: StartResponse) {
  env['wsgi.input'].setHundredContinueResponseHeaders([
    ['Hundred-Continue-Header-1', 'H1'], ['Hundred-Continue-Header-k', 'Hk']]);
  const text = await env['wsgi.input'].read();   // this read sends "100 Continue" + the headers
  startResponse('200 OK', [['Content-Length', String(text.length)]]);
  return [text];
}

await runUntilSignal(server(listen(['', portFromEnv()]), echo));
