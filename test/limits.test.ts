// SPEC §9: heads the server refuses itself. The Rust core answers them without calling the app,
// logs one line with the client address and the reason, and closes the connection; the next
// client is served as usual. Every rule gets its own raw-socket request here.
import { afterEach, describe, expect, it } from 'vitest';
import type { Environ, StartResponse } from '../ts/index.js';
import { cleanup, serve, type Served, type ServerOptions } from './helpers/serve.js';
import { RawConnection, rawExchange } from './helpers/raw-client.js';
import { head, sleep, withoutDate } from './helpers/util.js';

afterEach(cleanup);

// The exact answers, less their Date line (SPEC §8: always present), checked by `withoutDate`.
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
const URI_TOO_LONG = 'HTTP/1.0 414 Request URI Too Long\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
const HEADER_LINE_TOO_LONG = 'HTTP/1.0 400 Header Line Too Long\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
const HEADERS_TOO_LARGE = 'HTTP/1.0 400 Headers Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
const TOO_MANY_FIELDS =
  'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
const VERSION_NOT_SUPPORTED =
  'HTTP/1.1 505 HTTP Version Not Supported\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

/** A server whose app counts its calls: a refused head must never reach it. */
async function countingServer(options: ServerOptions = {}): Promise<Served & { calls: () => number }> {
  let calls = 0;
  const served = await serve((_env: Environ, startResponse: StartResponse) => {
    calls += 1;
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return ['hello world'];
  }, options);
  return { ...served, calls: () => calls };
}

/** The log lines that report a refused head. */
function rejections(served: Served): string[] {
  return served.logLines().filter((line) => line.includes('rejected request'));
}

/** LOG events reach JS in the core's next batch, possibly just after the socket closed. */
async function waitForRejection(served: Served): Promise<void> {
  for (let waited = 0; waited < 2000 && rejections(served).length === 0; waited += 10) await sleep(10);
}

/** A plain request on a fresh connection: the server still serves after a refusal. */
async function expectStillServing(served: Served): Promise<void> {
  const conn = await RawConnection.open(served.port);
  try {
    await conn.write(head('GET /after'));
    const res = await conn.readResponse();
    expect(res.status).toBe(200);
    expect(res.text()).toBe('hello world');
  } finally {
    conn.destroy();
  }
}

/** Sends `request`, expects exactly `response` then the close, one log line, and no app call. */
async function expectRefused(
  request: string | Buffer,
  response: string,
  reason: string,
  options: ServerOptions = {},
): Promise<void> {
  const served = await countingServer(options);
  const { data, closed } = await rawExchange(served.port, request, 3000);
  expect(withoutDate(data.toString('latin1'))).toBe(response);
  expect(closed).toBe(true);
  await waitForRejection(served);
  // The refusal is the only line: no access line, no stack trace.
  expect(served.logLines()).toEqual([`127.0.0.1 - rejected request: ${reason}`]);
  expect(served.calls()).toBe(0);
  await expectStillServing(served);
  expect(served.calls()).toBe(1);
}

/** A request line of exactly `length` bytes, CRLF included. */
function requestLineOf(length: number): string {
  const fixed = 'GET  HTTP/1.1\r\n'.length;
  return `GET /${'a'.repeat(length - fixed - 1)} HTTP/1.1\r\n`;
}

/** Header lines (without CRLF) whose lines, CRLFs and the final empty line take `total` bytes. */
function headerSectionOf(total: number): string[] {
  const lines = ['Host: localhost'];
  let used = lines[0]!.length + 2 + 2;
  for (let i = 0; used < total; i++) {
    const name = `X-Fill-${String(i).padStart(2, '0')}: `;
    // Lines well under the 8192-byte line limit; the last one takes what is left.
    const room = Math.min(8000, total - used - name.length - 2);
    const line = name + 'v'.repeat(Math.max(room, 0));
    lines.push(line);
    used += line.length + 2;
  }
  expect(lines.reduce((sum, line) => sum + line.length + 2, 2)).toBe(total);
  return lines;
}

describe('size limits', () => {
  it('a request line over urlLengthLimit (default 8192, CRLF included) gets 414', async () => {
    await expectRefused(
      requestLineOf(8192) + 'Host: localhost\r\n\r\n',
      URI_TOO_LONG,
      'request line too long',
    );
  });

  it('a request line of 8191 bytes is served', async () => {
    const served = await countingServer();
    const conn = await RawConnection.open(served.port);
    await conn.write(requestLineOf(8191) + 'Host: localhost\r\n\r\n');
    expect((await conn.readResponse()).status).toBe(200);
    expect(served.calls()).toBe(1);
  });

  it('urlLengthLimit moves the 414 boundary', async () => {
    await expectRefused(requestLineOf(100) + 'Host: localhost\r\n\r\n', URI_TOO_LONG, 'request line too long', {
      urlLengthLimit: 100,
    });
    const served = await countingServer({ urlLengthLimit: 100 });
    const conn = await RawConnection.open(served.port);
    await conn.write(requestLineOf(99) + 'Host: localhost\r\n\r\n');
    expect((await conn.readResponse()).status).toBe(200);
  });

  it('a request line far over the limit is refused before it ends', async () => {
    // No CRLF ever comes: the server must not wait for one (nor buffer without limit).
    await expectRefused(`GET /${'path'.repeat(3000)}`, URI_TOO_LONG, 'request line too long');
  });

  it('a header line of 8192 bytes (CRLF included) gets 400 Header Line Too Long', async () => {
    const line = 'X-Long: ' + 'a'.repeat(8192 - 'X-Long: '.length - 2);
    await expectRefused(head('GET /', ['Host: localhost', line]), HEADER_LINE_TOO_LONG, 'header line too long');
  });

  it('a header line of 8191 bytes is served', async () => {
    const served = await countingServer();
    const conn = await RawConnection.open(served.port);
    const line = 'X-Long: ' + 'a'.repeat(8191 - 'X-Long: '.length - 2);
    await conn.write(head('GET /', ['Host: localhost', line]));
    expect((await conn.readResponse()).status).toBe(200);
  });

  it("eventlet's test_030: a 10000-byte header line", async () => {
    await expectRefused(
      head('GET /', ['Host: localhost', 'Long: ' + 'a'.repeat(10000)]),
      HEADER_LINE_TOO_LONG,
      'header line too long',
    );
  });

  it('a header section of 65537 bytes gets 400 Headers Too Large', async () => {
    await expectRefused(head('GET /', headerSectionOf(65537)), HEADERS_TOO_LARGE, 'header section too large');
  });

  it('a header section of exactly 65536 bytes is served', async () => {
    const served = await countingServer();
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /', headerSectionOf(65536)));
    expect((await conn.readResponse()).status).toBe(200);
  });

  it("eventlet's test_031: 20 header lines of 7000 bytes", async () => {
    const lines = ['Host: localhost', ...Array.from({ length: 20 }, (_, i) => `Name${i}: ` + 'a'.repeat(7000))];
    await expectRefused(head('GET /', lines), HEADERS_TOO_LARGE, 'header section too large');
  });

  it('100 header fields get 431', async () => {
    const fields = ['Host: localhost', ...Array.from({ length: 99 }, (_, i) => `X-F${i}: ${i}`)];
    await expectRefused(head('GET /', fields), TOO_MANY_FIELDS, 'too many header fields');
  });

  it('99 header fields are served', async () => {
    const served = await countingServer();
    const conn = await RawConnection.open(served.port);
    const fields = ['Host: localhost', ...Array.from({ length: 98 }, (_, i) => `X-F${i}: ${i}`)];
    await conn.write(head('GET /', fields));
    expect((await conn.readResponse()).status).toBe(200);
  });
});

describe('malformed heads get 400 Bad Request and a close', () => {
  it.each([
    ['bare LF line endings', 'GET / HTTP/1.1\nHost: localhost\n\n', 'line ends with a bare LF'],
    ['a bare LF after one header', 'GET / HTTP/1.1\r\nHost: localhost\nX-A: b\r\n\r\n', 'line ends with a bare LF'],
    ['a bare CR in the request line', 'GET / HTTP/1.1\rHost: localhost\r\n\r\n', 'bare CR in the request head'],
    ['a bare CR in a header value', 'GET / HTTP/1.1\r\nHost: localhost\r\nX-A: b\rc\r\n\r\n', 'bare CR in the request head'],
    ['obs-fold (a line starting with SP)', head('GET /', ['Host: localhost', 'X-A: b', ' c']), 'obsolete line folding in a header'],
    ['obs-fold (a line starting with HTAB)', head('GET /', ['Host: localhost', 'X-A: b', '\tc']), 'obsolete line folding in a header'],
    ['a header name that is not a token', head('GET /', ['Host: localhost', 'X(A): b']), 'header name is not a token'],
    ['a header name with a space inside', head('GET /', ['Host: localhost', 'X A: b']), 'header name is not a token'],
    ['an empty header name', head('GET /', ['Host: localhost', ': b']), 'header name is not a token'],
    ['a space before the colon', head('GET /', ['Host: localhost', 'X-Sp : a']), 'whitespace between header name and colon'],
    ['a tab before the colon', head('GET /', ['Host: localhost', 'X-Sp\t: a']), 'whitespace between header name and colon'],
    ['a header line without a colon', head('GET /', ['Host: localhost', 'X-A b']), 'header line without a colon'],
    ['NUL in a header value', head('GET /', ['Host: localhost', 'X-A: b\0c']), 'control character in a header value'],
    ['ESC in a header value', head('GET /', ['Host: localhost', 'X-A: b\x1bc']), 'control character in a header value'],
    ['DEL in a header value', head('GET /', ['Host: localhost', 'X-A: b\x7fc']), 'control character in a header value'],
    ['two spaces in the request line', 'GET  / HTTP/1.1\r\nHost: localhost\r\n\r\n', 'malformed request line'],
    ['four parts in the request line', 'GET /hello extra HTTP/1.1\r\nHost: localhost\r\n\r\n', 'malformed request line'],
    ['a method that is not a token', 'G(T / HTTP/1.1\r\nHost: localhost\r\n\r\n', 'method is not a token'],
    ['a version HTTP/1.x', 'GET / HTTP/1.x\r\nHost: localhost\r\n\r\n', 'malformed HTTP version'],
    ['a lower-case version', 'GET / http/1.1\r\nHost: localhost\r\n\r\n', 'malformed HTTP version'],
    ['a version HTTP/10.0', 'GET / HTTP/10.0\r\nHost: localhost\r\n\r\n', 'malformed HTTP version'],
    ['an HTTP/0.9 request line', 'GET /\r\n\r\n', 'request line without an HTTP version (HTTP/0.9)'],
    ['an HTTP/0.9 request line with headers after it', 'GET /x\r\nHost: localhost\r\n\r\n', 'request line without an HTTP version (HTTP/0.9)'],
    ['a lone word', 'GET\r\n\r\n', 'malformed request line'],
    ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\nX-A: b\r\n\r\n', 'HTTP/1.1 request without Host'],
    ['two Host fields', head('GET /', ['Host: a', 'Host: b']), 'more than one Host header'],
  ])('%s', async (_label, request, reason) => {
    await expectRefused(request, BAD_REQUEST, reason);
  });

  it('HTTP/1.2 is served as HTTP/1.1, the highest 1.x this server speaks (RFC 9110 §6.2; eventlet serves it too)', async () => {
    const served = await countingServer();
    const conn = await RawConnection.open(served.port);
    await conn.write('GET / HTTP/1.2\r\nHost: localhost\r\n\r\n');
    const first = await conn.readResponse();
    expect(first.statusLine).toBe('HTTP/1.1 200 OK');
    expect(first.text()).toBe('hello world');
    await conn.write('GET /again HTTP/1.2\r\nHost: localhost\r\n\r\n');
    expect((await conn.readResponse()).text()).toBe('hello world');
    expect(served.calls()).toBe(2);
  });

  it('a well-formed version other than 1.0 and 1.1 gets 505 (as eventlet for HTTP/2.0)', async () => {
    await expectRefused('GET / HTTP/2.0\r\nHost: localhost\r\n\r\n', VERSION_NOT_SUPPORTED, 'unsupported HTTP version');
  });
});

describe('body framing that two parsers could read differently (request smuggling)', () => {
  const post = (headers: string[], body = '') => head('POST /', ['Host: localhost', ...headers]) + body;

  it.each([
    ['a signed Content-Length', ['Content-Length: +3'], 'Content-Length is not a decimal number'],
    ['a negative Content-Length', ['Content-Length: -10'], 'Content-Length is not a decimal number'],
    ['a non-numeric Content-Length', ['Content-Length: argh'], 'Content-Length is not a decimal number'],
    ['an empty Content-Length', ['Content-Length:'], 'Content-Length is not a decimal number'],
    ['a Content-Length with a separator', ['Content-Length: 1_0'], 'Content-Length is not a decimal number'],
    ['a hexadecimal Content-Length', ['Content-Length: 0x10'], 'Content-Length is not a decimal number'],
    ['a Content-Length with an inner space', ['Content-Length: 1 0'], 'Content-Length is not a decimal number'],
    ['a Content-Length list with an empty element', ['Content-Length: 3,'], 'Content-Length is not a decimal number'],
    ['a Content-Length over 64 bits', ['Content-Length: 18446744073709551616'], 'Content-Length too large'],
    ['two different Content-Length fields', ['Content-Length: 3', 'Content-Length: 4'], 'conflicting Content-Length values'],
    ['a Content-Length list of different values', ['Content-Length: 3, 4'], 'conflicting Content-Length values'],
    ['Content-Length with Transfer-Encoding', ['Content-Length: 0', 'Transfer-Encoding: chunked'], 'Content-Length together with Transfer-Encoding'],
    ['Transfer-Encoding with Content-Length after it', ['Transfer-Encoding: chunked', 'Content-Length: 3'], 'Content-Length together with Transfer-Encoding'],
    ['a coding other than chunked', ['Transfer-Encoding: gzip'], 'transfer coding other than a single chunked'],
    ['identity', ['Transfer-Encoding: identity'], 'transfer coding other than a single chunked'],
    ['a list not ending in chunked', ['Transfer-Encoding: chunked, gzip'], 'transfer coding other than a single chunked'],
    ['chunked twice in one field', ['Transfer-Encoding: chunked, chunked'], 'transfer coding other than a single chunked'],
    ['chunked twice in two fields', ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], 'transfer coding other than a single chunked'],
    // Only `chunked` alone is decoded: a coding before it could not be undone.
    ['gzip before chunked', ['Transfer-Encoding: gzip, chunked'], 'transfer coding other than a single chunked'],
  ])('%s', async (_label, headers, reason) => {
    await expectRefused(post(headers, '0\r\n\r\nabc'), BAD_REQUEST, reason);
  });

  it('equal repeated Content-Length fields are one length, and the body is read by it', async () => {
    const served = await serve(async (env: Environ, startResponse: StartResponse) => {
      const body = await env['wsgi.input'].read();
      startResponse('200 OK', []);
      return [body];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('POST /', ['Host: localhost', 'Content-Length: 3', 'Content-Length: 3']) + 'abc');
    const res = await conn.readResponse();
    expect(res.status).toBe(200);
    expect(res.text()).toBe('abc');
  });
});

describe('what is not refused', () => {
  it('empty lines before a request line are skipped', async () => {
    const served = await countingServer();
    const conn = await RawConnection.open(served.port);
    await conn.write('\r\n\r\n' + head('GET /'));
    expect((await conn.readResponse()).status).toBe(200);
    expect(served.calls()).toBe(1);
    // And between keep-alive requests (a client may add a CRLF after a body).
    await conn.write('\r\n' + head('GET /second'));
    expect((await conn.readResponse()).status).toBe(200);
    expect(served.calls()).toBe(2);
    expect(rejections(served)).toEqual([]);
  });

  it('empty lines without end before a request line are refused once they reach the line limit', async () => {
    await expectRefused('\r\n'.repeat(4096), BAD_REQUEST, 'too many empty lines before the request line');
  });

  it('HTTP/1.0 without Host is served', async () => {
    const served = await countingServer();
    const conn = await RawConnection.open(served.port);
    await conn.write('GET / HTTP/1.0\r\n\r\n');
    expect((await conn.readResponse()).status).toBe(200);
  });
});

describe('a refusal on a kept-alive connection', () => {
  it('answers the valid request before it, then refuses and closes', async () => {
    const served = await countingServer();
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /first') + 'GET / HTTP/1.1\nHost: localhost\n\n');
    const first = await conn.readResponse();
    expect(first.status).toBe(200);
    expect(first.text()).toBe('hello world');
    const rest = await conn.readToEnd(3000);
    expect(withoutDate(rest.toString('latin1'))).toBe(BAD_REQUEST);
    await waitForRejection(served);
    expect(rejections(served)).toEqual(['127.0.0.1 - rejected request: line ends with a bare LF']);
    expect(served.calls()).toBe(1);
  });

  it('many refused clients in a row do not stop the server', async () => {
    const served = await countingServer();
    const requests = ['GET /\r\n\r\n', 'GET / HTTP/1.1\r\n\r\n', head('GET /', ['Host: a', 'X\0: b'])];
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all(requests.map((request) => rawExchange(served.port, request, 3000)));
      for (const { data, closed } of results) {
        expect(withoutDate(data.toString('latin1'))).toBe(BAD_REQUEST);
        expect(closed).toBe(true);
      }
    }
    for (let waited = 0; waited < 2000 && rejections(served).length < 30; waited += 10) await sleep(10);
    expect(rejections(served)).toHaveLength(30);
    expect(served.calls()).toBe(0);
    await expectStillServing(served);
  });
});
