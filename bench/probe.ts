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

function requestBytes(url: URL, req: ProbeRequest): Buffer {
  const lines = [`${req.method} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
  for (const [name, value] of req.headers ?? []) lines.push(`${name}: ${value}`);
  if (req.body !== undefined) lines.push(`Content-Length: ${req.body.length}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), req.body ?? Buffer.alloc(0)]);
}

/** The response so far, or undefined while it is incomplete. Bodies must have a Content-Length. */
function parseResponse(bytes: Buffer): ProbeResponse | undefined {
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
  const headLength = headEnd + 4;
  if (bytes.length < headLength + Number(length)) return undefined;
  return { status: Number(status), headers, headLength, body: bytes.subarray(headLength, headLength + Number(length)) };
}

export function probe(baseUrl: string, req: ProbeRequest): Promise<ProbeResponse> {
  const url = new URL(req.path, baseUrl);
  return new Promise((resolve, reject) => {
    const socket: Socket = url.protocol === 'https:'
      // The certificate is the run's own throwaway one: what is checked here is the answer, not the chain.
      ? connectTls({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] })
      : connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    const fail = (err: Error): void => {
      socket.destroy();
      reject(new Error(`probe of ${url.href}: ${err.message}`));
    };
    socket.setTimeout(TIMEOUT_MS, () => fail(new Error(`no complete answer within ${TIMEOUT_MS / 1000} s`)));
    socket.on('error', fail);
    socket.on('end', () => fail(new Error('the server closed the connection before the response was complete')));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      let response: ProbeResponse | undefined;
      try {
        response = parseResponse(Buffer.concat(chunks));
      } catch (err) {
        fail(err as Error);
        return;
      }
      if (response !== undefined) {
        if (url.protocol === 'https:') {
          const tls = socket as TLSSocket;
          response.tls = `${tls.getProtocol() ?? '?'} ${tls.getCipher().standardName}`;
        }
        socket.destroy();
        resolve(response);
      }
    });
    socket.write(requestBytes(url, req));
  });
}
