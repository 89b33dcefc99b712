// A strict little HTTP/1.x response parser for the black-box tests: it keeps the exact bytes
// of the head and of the body as they were on the wire, so tests can assert framing.

export interface ParsedResponse {
  /** `HTTP/1.1 200 OK` */
  statusLine: string;
  /** `HTTP/1.1` */
  version: string;
  status: number;
  /** everything after the status code and its space (may be empty) */
  reason: string;
  /** header lines in wire order, names verbatim, values trimmed */
  headers: Array<[string, string]>;
  /** the head exactly as received, including the blank line */
  rawHead: Buffer;
  /** the decoded body (chunk framing removed) */
  body: Buffer;
  /** the body bytes exactly as on the wire (chunk framing included) */
  rawBody: Buffer;
  /** how the body was delimited */
  framing: 'none' | 'length' | 'chunked' | 'close';
  /** each chunk's data, for chunked bodies */
  chunks: Buffer[];
  /** false when the connection ended before the framing said the body was complete */
  complete: boolean;
  /** the value of a header (case-insensitive; repeated headers joined with ', ') */
  header(name: string): string | undefined;
  /** every value of a header (case-insensitive) */
  headerAll(name: string): string[];
  /** the body as UTF-8 text */
  text(): string;
}

export interface ParseOptions {
  /** the request method, so that HEAD responses are read without a body */
  method?: string;
}

function makeResponse(
  head: Buffer,
  statusLine: string,
  headers: Array<[string, string]>,
): Omit<ParsedResponse, 'body' | 'rawBody' | 'framing' | 'chunks' | 'complete'> {
  const m = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(statusLine);
  if (!m) throw new Error(`malformed status line: ${JSON.stringify(statusLine)}`);
  const headerAll = (name: string) =>
    headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
  return {
    statusLine,
    version: m[1]!,
    status: Number(m[2]),
    reason: m[3] ?? '',
    headers,
    rawHead: head,
    headerAll,
    header(name: string) {
      const all = headerAll(name);
      return all.length === 0 ? undefined : all.join(', ');
    },
    text() {
      return (this as ParsedResponse).body.toString('utf8');
    },
  };
}

/**
 * Tries to parse one response from the start of `buf`. Returns null when more bytes are needed.
 * With `eof` (the peer closed), an incomplete body gives a response with `complete: false`,
 * and an incomplete head throws.
 */
export function parseResponse(
  buf: Buffer,
  eof: boolean,
  options: ParseOptions = {},
): { response: ParsedResponse; consumed: number } | null {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    if (eof) {
      throw new Error(
        `connection closed before a complete response head; received ${JSON.stringify(buf.toString('latin1'))}`,
      );
    }
    return null;
  }
  const head = buf.subarray(0, headEnd + 4);
  const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const statusLine = lines.shift()!;
  const headers: Array<[string, string]> = lines.map((line) => {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line: ${JSON.stringify(line)}`);
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const base = makeResponse(head, statusLine, headers);
  const start = headEnd + 4;
  const method = (options.method ?? 'GET').toUpperCase();
  const finish = (
    framing: ParsedResponse['framing'],
    rawBody: Buffer,
    body: Buffer,
    chunks: Buffer[],
    complete: boolean,
  ) => ({
    response: { ...base, framing, rawBody, body, chunks, complete } as ParsedResponse,
    consumed: start + rawBody.length,
  });

  if (
    (base.status >= 100 && base.status < 200) ||
    base.status === 204 ||
    base.status === 304 ||
    method === 'HEAD'
  ) {
    return finish('none', Buffer.alloc(0), Buffer.alloc(0), [], true);
  }

  const te = base.header('transfer-encoding');
  if (te !== undefined && /(^|,)\s*chunked\s*$/i.test(te)) {
    const chunks: Buffer[] = [];
    let at = start;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at);
      if (lineEnd < 0) break;
      const sizeText = buf.subarray(at, lineEnd).toString('latin1').split(';')[0]!.trim();
      if (!/^[0-9a-fA-F]+$/.test(sizeText)) {
        throw new Error(`malformed chunk size line in response: ${JSON.stringify(sizeText)}`);
      }
      const size = parseInt(sizeText, 16);
      if (size === 0) {
        // trailers until an empty line
        let t = lineEnd + 2;
        for (;;) {
          const e = buf.indexOf('\r\n', t);
          if (e < 0) {
            t = -1;
            break;
          }
          if (e === t) {
            t = e + 2;
            break;
          }
          t = e + 2;
        }
        if (t < 0) break;
        const rawBody = buf.subarray(start, t);
        return finish('chunked', rawBody, Buffer.concat(chunks), chunks, true);
      }
      const dataStart = lineEnd + 2;
      if (buf.length < dataStart + size + 2) break;
      if (buf[dataStart + size] !== 13 || buf[dataStart + size + 1] !== 10) {
        throw new Error('chunk data not followed by CRLF in response');
      }
      chunks.push(buf.subarray(dataStart, dataStart + size));
      at = dataStart + size + 2;
    }
    if (!eof) return null;
    // The connection ended inside the chunked body: report what came.
    return finish('chunked', buf.subarray(start), Buffer.concat(chunks), chunks, false);
  }

  const cl = base.header('content-length');
  if (cl !== undefined) {
    if (!/^\d+$/.test(cl)) throw new Error(`malformed Content-Length in response: ${JSON.stringify(cl)}`);
    const length = Number(cl);
    if (buf.length >= start + length) {
      const body = buf.subarray(start, start + length);
      return finish('length', body, body, [], true);
    }
    if (!eof) return null;
    const body = buf.subarray(start);
    return finish('length', body, body, [], false);
  }

  // Delimited by the end of the connection.
  if (!eof) return null;
  const body = buf.subarray(start);
  return finish('close', body, body, [], true);
}

/** Parses every response in a complete byte stream (the connection has ended). */
export function parseAllResponses(buf: Buffer, methods: string[] = []): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let rest = buf;
  let i = 0;
  while (rest.length > 0) {
    const r = parseResponse(rest, true, { method: methods[i] });
    if (!r) break;
    out.push(r.response);
    rest = rest.subarray(r.consumed);
    i++;
  }
  return out;
}
