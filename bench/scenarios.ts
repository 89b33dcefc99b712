// What the benchmark measures: each scenario is one kind of traffic, served by ferrowsgi and by
// peers that send the same bytes. Later scenarios (pipelining through a wrk script, a request
// with 16 headers and a 1 KiB JSON answer) are further entries in this list.
import { fileURLToPath } from 'node:url';
import type { ProbeRequest, ProbeResponse } from './probe.js';
import { throwawayCertificate } from './tls-cert.js';

export interface ServerSpec {
  name: string;
  /** A script that serves the scenario on $PORT and prints `listening on URL` (bench/servers/announce.ts). */
  script: string;
}

export interface Scenario {
  name: string;
  /** The first is ferrowsgi; the others are peers. */
  servers: ServerSpec[];
  /** The wrk Lua script that shapes each request; without one, wrk sends `GET /`. */
  wrkScript?: string;
  /** One request like wrk's, sent before measuring ... */
  probe: ProbeRequest;
  /** ... and what is wrong with its answer, or undefined when it is right. */
  check(response: ProbeResponse): string | undefined;
  /** The peer that ratios are relative to; BASELINE unless set. */
  baseline?: string;
  /** Makes what the servers need before they start (files, say): the environment they get, and how to clean up. */
  prepare?(): Prepared;
}

export interface Prepared {
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/** The peer that ratios are relative to. */
export const BASELINE = 'node:http';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

function header(response: ProbeResponse, name: string): string | undefined {
  return response.headers.find(([key]) => key.toLowerCase() === name)?.[1];
}

const HELLO = Buffer.from('Hello, World!\r\n');
const ONE_MIB = Buffer.alloc(1 << 20, 'x'); // the body bench/wrk/post-1mib.lua sends

function checkHello(response: ProbeResponse): string | undefined {
  return response.status !== 200 ? `status ${response.status}, not 200`
    : header(response, 'content-type') !== 'text/plain' ? `Content-Type ${header(response, 'content-type')}, not text/plain`
    : !response.body.equals(HELLO) ? `body ${JSON.stringify(response.body.toString('latin1'))}, not "Hello, World!\\r\\n"`
    : undefined;
}

export const scenarios: Scenario[] = [
  {
    name: 'hello world',
    servers: [
      { name: 'ferrowsgi', script: here('./servers/ferrowsgi-hello.ts') },
      { name: BASELINE, script: here('./servers/node-hello.ts') },
    ],
    probe: { method: 'GET', path: '/' },
    check: checkHello,
  },
  {
    name: '1 MiB POST echo',
    servers: [
      { name: 'ferrowsgi', script: here('./servers/ferrowsgi-echo.ts') },
      { name: BASELINE, script: here('./servers/node-echo.ts') },
    ],
    wrkScript: here('./wrk/post-1mib.lua'),
    probe: { method: 'POST', path: '/', headers: [['Content-Type', 'application/octet-stream']], body: ONE_MIB },
    check: (response) =>
      response.status !== 200 ? `status ${response.status}, not 200`
      : !response.body.equals(ONE_MIB) ? `echoed ${response.body.length} bytes that differ from the ${ONE_MIB.length} sent`
      : undefined,
  },
  {
    // The same hello world over TLS, with a throwaway ECDSA certificate made for the run; wrk
    // keeps its connections, so this measures TLS records rather than handshakes.
    name: 'HTTPS hello world',
    servers: [
      { name: 'ferrowsgi', script: here('./servers/ferrowsgi-https.ts') },
      { name: 'node:https', script: here('./servers/node-https.ts') },
    ],
    baseline: 'node:https',
    prepare: () => {
      const certificate = throwawayCertificate();
      return { env: { CERTFILE: certificate.certfile, KEYFILE: certificate.keyfile }, cleanup: certificate.remove };
    },
    probe: { method: 'GET', path: '/' },
    check: checkHello,
  },
];
