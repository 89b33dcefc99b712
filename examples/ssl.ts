// The seed's SSL example: the hello world over HTTPS, TLS terminated in the Rust core.
// Run: npx tsx examples/ssl.ts [CERTFILE [KEYFILE]]
// The paths come from the arguments, else from $CERTFILE and $KEYFILE, else the seed's
// cert.crt and private.key in the current directory. For a self-signed pair to try it with
// (README.md, "HTTPS"):
//   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
//     -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
//     -keyout private.key -out cert.crt
//   curl --cacert cert.crt https://localhost:8090/
import { server, listen, wrapSsl } from 'ferrowsgi';
import type { Environ, StartResponse } from 'ferrowsgi';
import { portFromEnv, runUntilSignal } from './support/run-until-signal.js';

function helloWorld(_env: Environ, startResponse: StartResponse) {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return ['Hello, World!\r\n'];
}

const certfile = process.argv[2] ?? process.env.CERTFILE ?? 'cert.crt';
const keyfile = process.argv[3] ?? process.env.KEYFILE ?? 'private.key';

/** A missing or mismatched pair is the usual first-run problem: say so without a stack trace. */
function listenSecurely() {
  try {
    return wrapSsl(listen(['', portFromEnv()]), { certfile, keyfile, serverSide: true });
  } catch (err) {
    console.error(`ssl.ts: ${err instanceof Error ? err.message : String(err)}`);
    console.error('Pass the certificate and key paths as arguments (see the top of examples/ssl.ts).');
    process.exit(1);
  }
}

await runUntilSignal(server(listenSecurely(), helloWorld), 'https');
