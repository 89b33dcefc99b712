// One request outside of wrk, to check that a server gives the answer the scenario expects
// before its speed is measured: a fast wrong answer is no result. The request is written by hand
// as wrk writes it (node's client would add a Connection header, and servers answer that).
import { connect, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';

export interface ProbeRequest {
  method: string;
  path: string;
  /** Sent after Host, as the scenario's wrk script sets them. */
  headers?: Array<[name: string, value: string]>;
  /** Sent with a Content-Length, as wrk does. */
  body?: Buffer;
}

export interface ProbeResponse {
  status: number;
  /** Header names and values in the order and case they came in. */
  headers: Array<[name: string, value: string]>;
  /** Bytes of the status line and headers, final CRLF included. */
  headLength: number;
  body: Buffer;
  /** For https: the protocol version and cipher agreed on, e.g. `TLSv1.3 TLS_AES_256_GCM_SHA384`. */
  tls?: string;
}

const TIMEOUT_MS = 10_000;

/** The request as wrk writes it: the request line, Host, the probe's headers, a Content-Length if there is a body. */
export function requestBytes(url: URL, req: ProbeRequest): Buffer {
  const lines = [`${req.method} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
  for (const [name, value] of req.headers ?? []) lines.push(`${name}: ${value}`);
  if (req.body !== undefined) lines.push(`Content-Length: ${req.body.length}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), req.body ?? Buffer.alloc(0)]);
}

interface Head {
  status: number;
  headers: Array<[name: string, value: string]>;
  headLength: number;
  contentLength: number;
}

/** The response's head, or undefined while it is incomplete. Bodies must have a Content-Length. */
function parseHead(bytes: Buffer): Head | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [statusLine = '', ...headerLines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
  if (status === undefined) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify(statusLine)}`);
  const headers = headerLines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const length = headers.find(([name]) => name.toLowerCase() === 'content-length')?.[1];
  if (length === undefined) throw new Error('the response has no Content-Length, which the probe needs to find its end');
  return { status: Number(status), headers, headLength: headEnd + 4, contentLength: Number(length) };
}

/**
 * Writes `request` on a connected `socket` and resolves with the one response to it, leaving the
 * socket open and without listeners: the probe closes it, bench/idle.ts keeps it.
 */
export function exchange(socket: Socket, request: Buffer): Promise<ProbeResponse> {
  return new Promise((resolve, reject) => {
    // The head is looked for in what has come so far; the body is joined once, when complete
    // (joining on every read would copy a 64 MiB body hundreds of times).
    const chunks: Buffer[] = [];
    let received = 0;
    let head: Head | undefined;
    const settle = (): void => {
      socket.setTimeout(0);
      socket.off('timeout', onTimeout).off('error', fail).off('end', onEnd).off('data', onData);
    };
    const fail = (err: Error): void => {
      settle();
      reject(err);
    };
    const onTimeout = (): void => fail(new Error(`no complete answer within ${TIMEOUT_MS / 1000} s`));
    const onEnd = (): void => fail(new Error('the server closed the connection before the response was complete'));
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      received += chunk.length;
      try {
        if (head === undefined) {
          chunks.splice(0, chunks.length, Buffer.concat(chunks));
          head = parseHead(chunks[0]!);
        }
      } catch (err) {
        fail(err as Error);
        return;
      }
      if (head === undefined || received < head.headLength + head.contentLength) return;
      settle();
      const { status, headers, headLength, contentLength } = head;
      resolve({ status, headers, headLength, body: Buffer.concat(chunks).subarray(headLength, headLength + contentLength) });
    };
    socket.setTimeout(TIMEOUT_MS);
    socket.on('timeout', onTimeout).on('error', fail).on('end', onEnd).on('data', onData);
    socket.write(request);
  });
}

/** A connection to `url`'s server, over TLS for https. */
export function connectTo(url: URL): Socket {
  return url.protocol === 'https:'
    // The certificate is the run's own throwaway one: what is checked is the answer, not the chain.
    ? connectTls({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] })
    : connect(Number(url.port), url.hostname);
}

export async function probe(baseUrl: string, req: ProbeRequest): Promise<ProbeResponse> {
  const url = new URL(req.path, baseUrl);
  const socket = connectTo(url);
  try {
    const response = await exchange(socket, requestBytes(url, req));
    if (url.protocol === 'https:') {
      const tls = socket as TLSSocket;
      response.tls = `${tls.getProtocol() ?? '?'} ${tls.getCipher().standardName}`;
    }
    return response;
  } catch (err) {
    throw new Error(`probe of ${url.href}: ${(err as Error).message}`);
  } finally {
    socket.destroy();
  }
}
