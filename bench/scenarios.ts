// What the benchmark measures: each scenario is one kind of traffic, served by ferrowsgi and by
// peers that send the same bytes: node:http, which every ratio is relative to, and where they
// apply uWebSockets.js (the fastest server on node's JS thread) and a Rust server with no
// JavaScript at all (the ceiling of ferrowsgi's stack).
import { fileURLToPath } from 'node:url';
import { ceilingExecutable } from './ceiling.js';
import type { ProbeRequest, ProbeResponse } from './probe.js';
import { JSON_BODY } from './servers/json-body.js';
import { CHUNK, TOTAL_BYTES } from './servers/stream-body.js';
import { throwawayCertificate } from './tls-cert.js';

export type ServerSpec = {
  name: string;
  /**
   * A peer that may be missing on this machine (an optional package): when it cannot start, its
   * row is left out with the reason printed instead of failing the run.
   */
  optional?: boolean;
} & (
  | {
    /** A script that serves the scenario on $PORT and prints `listening on URL` (bench/servers/announce.ts). */
    script: string;
  }
  | {
    /** A native program that does the same, and where it is (built on the first call). */
    executable(): string;
  }
);

export interface Scenario {
  name: string;
  /** The first is ferrowsgi; the others are peers. */
  servers: ServerSpec[];
  /** The wrk Lua script that shapes each request; without one, wrk sends `GET /`. */
  wrkScript?: string;
  /** Arguments for the script, after `--` on wrk's command line. */
  wrkScriptArgs?: string[];
  /** wrk -c for this scenario, whatever --connections says. */
  connections?: number;
  /** wrk --timeout, for responses that take longer than wrk's default 2 s. */
  wrkTimeoutSeconds?: number;
  /**
   * False where wrk's latency figures mean nothing: when it pipelines, it times batches, and its
   * correction for coordinated omission, which assumes one request per round trip, files most of
   * them below the lowest time it saw (wrk 4.1 then prints 0us for p99).
   */
  wrkLatency?: boolean;
  /**
   * Not a wrk run: each server gets this many keep-alive connections that send the probe's
   * request once and then stay idle, and what is reported is the server's RSS per connection.
   */
  idleConnections?: number;
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
/** The peer that ferrowsgi's share is printed of. */
export const CEILING = 'rust ceiling';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

const ferrowsgiHello: ServerSpec = { name: 'ferrowsgi', script: here('./servers/ferrowsgi-hello.ts') };
const nodeHello: ServerSpec = { name: BASELINE, script: here('./servers/node-hello.ts') };
const uwsHello: ServerSpec = { name: 'uWS.js', script: here('./servers/uws-hello.ts'), optional: true };
/** The same app as ferrowsgi's, on uWS.js's I/O with ferrowsgi's environ (servers/uws-wsgi.ts). */
const UWS_WSGI = 'uWS.js+environ';
const rustCeiling: ServerSpec = { name: CEILING, executable: ceilingExecutable };
const ferrowsgiHttps: ServerSpec = { name: 'ferrowsgi', script: here('./servers/ferrowsgi-https.ts') };
const nodeHttps: ServerSpec = { name: 'node:https', script: here('./servers/node-https.ts') };

/** The HTTPS servers' certificate and key: a throwaway ECDSA pair made for the run. */
function prepareCertificate(): Prepared {
  const certificate = throwawayCertificate();
  return { env: { CERTFILE: certificate.certfile, KEYFILE: certificate.keyfile }, cleanup: certificate.remove };
}

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

/**
 * What a browser sends with a fetch() from a page of the same site, after Host (Chrome's order).
 * bench/wrk/headers-in-order.lua sends these as the probe does: 16 header fields with Host.
 */
const BROWSER_HEADERS: Array<[string, string]> = [
  ['Connection', 'keep-alive'],
  ['Cache-Control', 'no-cache'],
  ['Pragma', 'no-cache'],
  ['sec-ch-ua', '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"'],
  ['Accept', 'application/json, text/plain, */*'],
  ['sec-ch-ua-mobile', '?0'],
  ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'],
  ['sec-ch-ua-platform', '"Linux"'],
  ['Sec-Fetch-Site', 'same-origin'],
  ['Sec-Fetch-Mode', 'cors'],
  ['Sec-Fetch-Dest', 'empty'],
  ['Referer', 'http://127.0.0.1/items?page=2'],
  ['Accept-Encoding', 'gzip, deflate, br, zstd'],
  ['Accept-Language', 'en-US,en;q=0.9,de;q=0.8'],
  ['Cookie', 'session=3f6c2a9e0b8d4f17a5e2c9b1d0f3e7a4; theme=dark; _ga=GA1.1.1234567890.1714550400'],
];

export const scenarios: Scenario[] = [
  {
    name: 'hello world',
    servers: [ferrowsgiHello, nodeHello, uwsHello, { name: UWS_WSGI, script: here('./servers/uws-wsgi-hello.ts'), optional: true }, rustCeiling],
    probe: { method: 'GET', path: '/' },
    check: checkHello,
  },
  {
    // 16 requests per write, each connection waiting for all 16 answers before the next write.
    name: 'pipelined hello world',
    servers: [ferrowsgiHello, nodeHello, uwsHello, rustCeiling],
    wrkScript: here('./wrk/pipeline-16.lua'),
    wrkLatency: false,
    probe: { method: 'GET', path: '/' },
    check: checkHello,
  },
  {
    name: '16 headers, 1 KiB JSON',
    servers: [
      { name: 'ferrowsgi', script: here('./servers/ferrowsgi-json.ts') },
      { name: BASELINE, script: here('./servers/node-json.ts') },
      { name: 'uWS.js', script: here('./servers/uws-json.ts'), optional: true },
      { name: UWS_WSGI, script: here('./servers/uws-wsgi-json.ts'), optional: true },
    ],
    wrkScript: here('./wrk/headers-in-order.lua'),
    wrkScriptArgs: BROWSER_HEADERS.map(([name, value]) => `${name}: ${value}`),
    probe: { method: 'GET', path: '/api/items?page=2', headers: BROWSER_HEADERS },
    check: (response) =>
      response.status !== 200 ? `status ${response.status}, not 200`
      : header(response, 'content-type') !== 'application/json' ? `Content-Type ${header(response, 'content-type')}, not application/json`
      : !response.body.equals(JSON_BODY) ? `a body of ${response.body.length} bytes that is not the 1 KiB JSON page`
      : undefined,
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
    // Each response is 64 MiB: 8 connections keep the loopback busy without 50 responses in
    // flight at once, and wrk's default 2 s timeout would cut responses that wait their turn.
    name: '64 MiB streamed response',
    servers: [
      { name: 'ferrowsgi', script: here('./servers/ferrowsgi-stream.ts') },
      { name: BASELINE, script: here('./servers/node-stream.ts') },
    ],
    connections: 8,
    wrkTimeoutSeconds: 60,
    probe: { method: 'GET', path: '/' },
    check: (response) => {
      if (response.status !== 200) return `status ${response.status}, not 200`;
      if (response.body.length !== TOTAL_BYTES) return `${response.body.length} body bytes, not ${TOTAL_BYTES}`;
      for (let at = 0; at < TOTAL_BYTES; at += CHUNK.length) {
        if (!response.body.subarray(at, at + CHUNK.length).equals(CHUNK)) return `the body differs from the chunks at byte ${at}`;
      }
      return undefined;
    },
  },
  {
    // The hello world servers, whose idle keep-alive connections stay open as long as the client
    // keeps them: ferrowsgi has no idle timeout by default, node-hello.ts turns node's off.
    name: '10k idle keep-alive connections',
    servers: [ferrowsgiHello, nodeHello],
    idleConnections: 10_000,
    probe: { method: 'GET', path: '/' },
    check: checkHello,
  },
  {
    // The same hello world over TLS, with a throwaway ECDSA certificate made for the run; wrk
    // keeps its connections, so this measures TLS records rather than handshakes.
    name: 'HTTPS hello world',
    servers: [ferrowsgiHttps, nodeHttps],
    baseline: 'node:https',
    prepare: prepareCertificate,
    probe: { method: 'GET', path: '/' },
    check: checkHello,
  },
  {
    // Idle connections over TLS, where the session's buffers are most of what one costs; fewer
    // than in the plain scenario, as each needs a handshake from the one client process.
    name: '5k idle TLS connections',
    servers: [ferrowsgiHttps, nodeHttps],
    baseline: 'node:https',
    idleConnections: 5_000,
    prepare: prepareCertificate,
    probe: { method: 'GET', path: '/' },
    check: checkHello,
  },
];
