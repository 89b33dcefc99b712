// uWebSockets.js for the uWS.js rows, loaded from the package's binary for this platform and Node
// ABI. The package's own entry point would fall back to a JavaScript imitation on node:http (with
// a warning) where that binary is missing, and a row for the imitation would not be uWS.js. The
// package is a development dependency: where it cannot be loaded, the server exits with the
// reason on stderr and bench/run.ts leaves its row out.
import { createRequire } from 'node:module';
import { announce, HOST, portFromEnv } from './announce.js';

/** The parts of uWS.js's API that the bench servers use (the package's own types may be absent). */
export interface UwsResponse {
  writeStatus(status: string): UwsResponse;
  writeHeader(name: string, value: string): UwsResponse;
  end(body?: string | Uint8Array): UwsResponse;
  /** Runs `write` with the response's writes gathered into one send. */
  cork(write: () => void): UwsResponse;
}

/** Valid only during the handler call. */
export interface UwsRequest {
  getMethod(): string;
  getUrl(): string;
  getQuery(): string | undefined;
  /** Header names come lower-cased. */
  forEach(visit: (name: string, value: string) => void): void;
}

export interface UwsApp {
  any(pattern: string, handler: (res: UwsResponse, req: UwsRequest) => void): UwsApp;
  listen(host: string, port: number, callback: (listenSocket: unknown) => void): UwsApp;
}

export interface Uws {
  App(): UwsApp;
  us_socket_local_port(listenSocket: unknown): number;
}

const PACKAGE = '@trufflesuite/uws-js-unofficial';

function loadUws(): Uws {
  const { platform, arch, versions } = process;
  try {
    return createRequire(import.meta.url)(`${PACKAGE}/binaries/uws_${platform}_${arch}_${versions.modules}.node`) as Uws;
  } catch (err) {
    const why = (err as Error).message.split('\n')[0];
    console.error(`uWS.js (${PACKAGE}) cannot be loaded for ${platform}-${arch}, Node ABI ${versions.modules}: ${why}`);
    process.exit(1);
  }
}

/** Answers every request with `200 OK`, `contentType` and `body`; uWS.js adds Content-Length and Date. */
export function serveWithUws(contentType: string, body: string | Uint8Array): void {
  serveEachWithUws((res) => {
    res.writeStatus('200 OK').writeHeader('Content-Type', contentType).end(body);
  });
}

/** Answers every request with `handle`. */
export function serveEachWithUws(handle: (res: UwsResponse, req: UwsRequest) => void): void {
  const uws = loadUws();
  uws.App()
    .any('/*', handle)
    .listen(HOST, portFromEnv(), (listenSocket) => {
      if (!listenSocket) throw new Error(`uWS.js could not listen on ${HOST}:${portFromEnv()}`);
      announce(uws.us_socket_local_port(listenSocket));
    });
}
