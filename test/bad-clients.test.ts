// Bad clients: what a misbehaving or hostile client can try against the server, and what it must
// get instead of a crash, a hang, a leak, a smuggled request or an unclear answer. After each of
// them a good client is still served, and where /proc is there (Linux), the process's open
// descriptors (the server runs in this process) return to what they were.
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, type Environ, type StartResponse } from '../ts/index.js';
import { echoApp, envGet, inputOf } from './helpers/apps.js';
import { parseResponse } from './helpers/http-parse.js';
import { openFds, unreadByServer } from './helpers/proc.js';
import { RawConnection, connect, rawExchange } from './helpers/raw-client.js';
import { cleanup, serve, serveOn, track, type App, type Served } from './helpers/serve.js';
import { deferred, head, sleep, until, within, withoutDate } from './helpers/util.js';

afterEach(cleanup);

const KIB = 1024;
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

/** The descriptor count once the server is up and its first connection is gone. */
async function fdBaseline(served: Served): Promise<number | undefined> {
  await expectServes(served);
  if (openFds() === undefined) return undefined;
  return settledValue(() => openFds()!, 100, 3000, 'the descriptor count to settle');
}

/** Every descriptor the bad clients cost is given back. */
async function expectFdsBackTo(baseline: number | undefined): Promise<void> {
  if (baseline === undefined) return;
  await until(() => openFds()! <= baseline, 5000, `open descriptors to fall back to ${baseline} (now ${openFds()})`);
}

/** Waits until the server has read what its clients wrote (where /proc says so; else a while). */
async function serverHasRead(port: number): Promise<void> {
  if (process.platform !== 'linux') return sleep(200);
  await until(() => unreadByServer(port) === 0, 3000, 'the server to read what was sent');
}

/** A good client on a fresh connection gets its answer (`Connection: close`, so nothing stays open). */
async function expectServes(served: Served, path = '/ok'): Promise<void> {
  const { data, closed } = await rawExchange(served.port, head(`GET ${path}`, ['Host: localhost', 'Connection: close']), 5000);
  expect(closed).toBe(true);
  const parsed = parseResponse(data, true);
  expect(parsed?.response.status).toBe(200);
}

/** Resolves with `measure()` once it has not changed for `quietMs`. */
async function settledValue(measure: () => number, quietMs: number, ms: number, what: string): Promise<number> {
  let value = measure();
  let since = Date.now();
  await until(
    () => {
      const now = measure();
      if (now !== value) {
        value = now;
        since = Date.now();
      }
      return Date.now() - since >= quietMs;
    },
    ms,
    what,
  );
  return value;
}

/** Answers with PATH_INFO padded to `size` bytes, and counts its calls. */
function paddedPathServer(size: number) {
  let calls = 0;
  const app = (env: Environ, startResponse: StartResponse) => {
    calls += 1;
    const path = String(envGet(env, 'PATH_INFO'));
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [size > 0 ? path.padEnd(size, '.') : path];
  };
  return serve(app, { logOutput: false }).then((served) => ({ served, calls: () => calls }));
}

/**
 * Checks a stream of Content-Length responses as it arrives, without keeping it: each body must
 * start with the next expected path and have `size` bytes.
 */
class ResponseChecker {
  answered = 0;
  private carry: Buffer = Buffer.alloc(0);

  constructor(
    private readonly paths: string[],
    private readonly size: number,
  ) {}

  feed(data: Buffer): void {
    this.carry = this.carry.length === 0 ? data : Buffer.concat([this.carry, data]);
    for (;;) {
      const parsed = parseResponse(this.carry, false);
      if (parsed === null) return;
      const { response, consumed } = parsed;
      const expected = this.paths[this.answered];
      if (response.status !== 200 || response.body.length !== this.size || expected === undefined ||
        response.body.subarray(0, expected.length + 1).toString('latin1') !== expected + '.') {
        throw new Error(`answer ${this.answered}: ${response.statusLine}, ${JSON.stringify(response.body.subarray(0, 40).toString('latin1'))}`);
      }
      this.answered += 1;
      this.carry = this.carry.subarray(consumed);
    }
  }
}

describe('a client that pipelines many requests and does not read the answers', () => {
  const COUNT = 600;
  const SIZE = 128 * KIB;
  const paths = Array.from({ length: COUNT }, (_, i) => `/r${i}`);
  const pipeline = paths.map((p) => head(`GET ${p}`)).join('');

  it('is held back: the app runs a bounded number of times, others are served, and once it reads, every answer arrives in order', async () => {
    const { served, calls } = await paddedPathServer(SIZE);
    const socket = await connect(served.port);
    socket.pause();
    socket.write(pipeline);
    // All 600 answers are 75 MiB. The kernel's socket buffers hold a few MiB of them; the server
    // must stop taking requests once its writes stall, rather than queue the rest in memory.
    const stalledAt = await settledValue(calls, 500, 10000, 'the app calls to stop');
    expect(stalledAt).toBeGreaterThan(0);
    expect(stalledAt).toBeLessThan(COUNT / 2);

    // The stalled connection does not hold up anyone else.
    await within(expectServes(served, '/other'), 3000, 'another client to be served');

    const checker = new ResponseChecker(paths, SIZE);
    const failed = deferred<never>();
    socket.on('data', (data: Buffer) => {
      try {
        checker.feed(data);
      } catch (err) {
        failed.reject(err);
      }
    });
    socket.resume();
    await Promise.race([failed.promise, until(() => checker.answered === COUNT, 20000, `all ${COUNT} answers (${checker.answered} so far)`)]);
    expect(calls()).toBe(COUNT + 1);
    socket.destroy();
  });

  it('then resets: its connection and descriptors are freed, the app stops being called, the server serves on', async () => {
    const { served, calls } = await paddedPathServer(SIZE);
    const baseline = await fdBaseline(served);
    const socket = await connect(served.port);
    socket.pause();
    socket.write(pipeline);
    await settledValue(calls, 500, 10000, 'the app calls to stop');
    socket.resetAndDestroy();
    await expectFdsBackTo(baseline);
    const after = await settledValue(calls, 300, 5000, 'the app calls to stop after the reset');
    expect(after).toBeLessThan(COUNT / 2);
    await expectServes(served);
    expect(served.logText()).not.toMatch(/\n\s+at /);
  });
});

describe('a client that half-closes (shuts down its sending side) after its request', () => {
  const app: App = async (env: Environ, startResponse: StartResponse) => {
    const path = String(envGet(env, 'PATH_INFO'));
    if (path === '/slow') await sleep(100);
    if (path === '/stream') {
      startResponse('200 OK', []);
      return (async function* () {
        yield 'str';
        await sleep(50);
        yield 'eam';
      })();
    }
    if (path === '/echo') return echoApp(env, startResponse);
    startResponse('200 OK', []);
    return [path];
  };

  it.each([
    ['a GET answered by a slow app', head('GET /slow'), ['/slow']],
    ['a Content-Length body', head('POST /echo', ['Host: localhost', 'Content-Length: 5']) + 'hello', ['hello']],
    ['a chunked body', head('POST /echo', ['Host: localhost', 'Transfer-Encoding: chunked']) + '5\r\nhello\r\n0\r\n\r\n', ['hello']],
    ['a streamed answer', head('GET /stream'), ['stream']],
    ['two pipelined requests', head('GET /slow') + head('GET /second'), ['/slow', '/second']],
  ])('%s: every answer arrives whole, then the server closes', async (_label, request, bodies) => {
    const served = await serve(app);
    const conn = await RawConnection.open(served.port);
    await conn.write(request);
    conn.end();
    for (const body of bodies) {
      const res = await conn.readResponse();
      expect(res.status).toBe(200);
      expect(res.complete).toBe(true);
      expect(res.text()).toBe(body);
    }
    expect(await conn.waitClosed(3000)).toBe(true);
    expect(conn.unread.length).toBe(0);
  });

  it('300 pipelined requests, then the half-close: all are answered in order, then the server closes', async () => {
    const { served } = await paddedPathServer(0);
    const paths = Array.from({ length: 300 }, (_, i) => `/p${i}`);
    const conn = await RawConnection.open(served.port);
    await conn.write(paths.map((p) => head(`GET ${p}`)).join(''));
    conn.end();
    const bodies: string[] = [];
    for (const _ of paths) bodies.push((await conn.readResponse()).text());
    expect(bodies).toEqual(paths);
    expect(await conn.waitClosed(3000)).toBe(true);
  });
});

describe('a client that resets in the middle of a streamed response', () => {
  it('a sync generator body: its finally runs once, then close(), then the hooks; one log line; the server serves on', async () => {
    const ran: string[] = [];
    const served = await serve((env: Environ, startResponse: StartResponse) => {
      if (envGet(env, 'PATH_INFO') === '/ok') {
        startResponse('200 OK', []);
        return ['ok'];
      }
      env['eventlet.posthooks'].push([() => ran.push('hook')]);
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      const body = (function* () {
        try {
          for (;;) yield Buffer.alloc(64 * KIB, 'g');
        } finally {
          ran.push('finally');
        }
      })();
      return Object.assign(body, { close: () => ran.push('close') });
    });
    const baseline = await fdBaseline(served);
    const socket = await connect(served.port);
    let received = 0;
    socket.on('data', (data: Buffer) => (received += data.length));
    socket.write(head('GET /endless'));
    await until(() => received > 256 * KIB, 5000, 'part of the endless body');
    socket.resetAndDestroy();
    await until(() => ran.includes('hook'), 5000, 'the hook after the reset');
    expect(ran).toEqual(['finally', 'close', 'hook']);
    await expectFdsBackTo(baseline);
    // The good client's line, and one line for the reset: no stack trace, no EPIPE/ECONNRESET noise.
    const lines = served.logLines().filter((line) => !line.includes('"GET /ok HTTP/1.1"'));
    expect(lines).toEqual(['127.0.0.1 - client disconnected before the response to "GET /endless HTTP/1.1" was complete']);
    await expectServes(served);
    expect(ran).toEqual(['finally', 'close', 'hook']);
  });
});

describe('request smuggling through the framing headers', () => {
  /** Echoes the body, or says why reading it failed; records every request path. */
  async function framingServer() {
    const paths: string[] = [];
    const served = await serve(async (env: Environ, startResponse: StartResponse) => {
      const path = String(envGet(env, 'PATH_INFO'));
      paths.push(path);
      let body: string;
      try {
        body = (await inputOf(env).read()).toString('latin1');
      } catch (err) {
        body = `read failed: ${(err as Error).message}`;
      }
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [body];
    });
    return { served, paths };
  }

  it('HTTP/1.0 with Transfer-Encoding and keep-alive: the body is read, then the connection closes (RFC 9112 §6.1), so what follows is never a request', async () => {
    const { served, paths } = await framingServer();
    const request =
      'POST /te10 HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
      'GET /smuggled HTTP/1.0\r\nConnection: keep-alive\r\n\r\n';
    const { data, closed } = await rawExchange(served.port, request, 3000);
    expect(withoutDate(data.toString('latin1'))).toBe(
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc',
    );
    expect(closed).toBe(true);
    expect(paths).toEqual(['/te10']);
  });

  it.each([
    ['upper case', 'Transfer-Encoding: CHUNKED'],
    ['mixed case, name too', 'transfer-ENCODING: Chunked'],
    ['spaces around the value', 'Transfer-Encoding:    chunked   '],
    ['tabs around the value', 'Transfer-Encoding:\tchunked\t'],
  ])('Transfer-Encoding in %s is chunked: the body is decoded exactly and the request after it is its own', async (_label, field) => {
    const { served, paths } = await framingServer();
    const conn = await RawConnection.open(served.port);
    await conn.write(head('POST /te', ['Host: localhost', field]) + '3\r\nabc\r\n0\r\n\r\n' + head('GET /next'));
    expect((await conn.readResponse()).text()).toBe('abc');
    expect((await conn.readResponse()).text()).toBe('');
    expect(paths).toEqual(['/te', '/next']);
  });

  it.each([
    ['chunked, identity', ['Transfer-Encoding: chunked, identity']],
    ['an empty Transfer-Encoding field beside a chunked one', ['Transfer-Encoding:', 'Transfer-Encoding: chunked']],
    ['chunked with a parameter', ['Transfer-Encoding: chunked;q=1']],
    ['a vertical tab before chunked', ['Transfer-Encoding: \x0bchunked']],
  ])('%s: 400 and the close, and the app never sees it', async (_label, fields) => {
    const { served, paths } = await framingServer();
    const { data, closed } = await rawExchange(served.port, head('POST /te', ['Host: localhost', ...fields]) + '3\r\nabc\r\n0\r\n\r\n' + head('GET /smuggled'), 3000);
    expect(withoutDate(data.toString('latin1'))).toBe(BAD_REQUEST);
    expect(closed).toBe(true);
    expect(paths).toEqual([]);
    await expectServes(served);
  });

  it('Transfer_Encoding (an underscore) is no framing: the app gets an empty body, and the chunked bytes are refused as a request', async () => {
    const { served, paths } = await framingServer();
    const conn = await RawConnection.open(served.port);
    await conn.write(head('POST /underscore', ['Host: localhost', 'Transfer_Encoding: chunked']) + '3\r\nabc\r\n0\r\n\r\n');
    const res = await conn.readResponse();
    expect(res.text()).toBe('');
    expect(withoutDate((await conn.readToEnd(3000)).toString('latin1'))).toBe(BAD_REQUEST);
    expect(paths).toEqual(['/underscore']);
  });

  it('trailer fields named Content-Length and Transfer-Encoding do not change the framing', async () => {
    const { served, paths } = await framingServer();
    const conn = await RawConnection.open(served.port);
    await conn.write(
      head('POST /trailers', ['Host: localhost', 'Transfer-Encoding: chunked']) +
        '5\r\nhello\r\n0\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n' +
        head('GET /next'),
    );
    expect((await conn.readResponse()).text()).toBe('hello');
    expect((await conn.readResponse()).text()).toBe('');
    expect(paths).toEqual(['/trailers', '/next']);
  });

  it('whitespace before a chunk extension is allowed (RFC 9112 §7.1.1 BWS)', async () => {
    const { served } = await framingServer();
    const conn = await RawConnection.open(served.port);
    await conn.write(head('POST /bws', ['Host: localhost', 'Transfer-Encoding: chunked']) + '3 ;ext=1\r\nabc\r\n0\r\n\r\n');
    expect((await conn.readResponse()).text()).toBe('abc');
  });

  it.each([
    ['a 0x prefix', '0x3\r\nabc\r\n0\r\n\r\n'],
    ['a plus sign', '+3\r\nabc\r\n0\r\n\r\n'],
    ['a leading space', ' 3\r\nabc\r\n0\r\n\r\n'],
    ['trailing whitespace without an extension', '3\t\r\nabc\r\n0\r\n\r\n'],
    ['a bare LF ending the size line', '3\nabc\r\n0\r\n\r\n'],
    ['a bare LF ending an extension', '3;ext\nabc\r\n0\r\n\r\n'],
  ])('a chunk size with %s (eventlet takes it): the read rejects, the connection closes, nothing after it is a request', async (_label, body) => {
    const { served, paths } = await framingServer();
    const { data, closed } = await rawExchange(
      served.port,
      head('POST /size', ['Host: localhost', 'Transfer-Encoding: chunked']) + body + head('GET /smuggled'),
      3000,
    );
    const parsed = parseResponse(data, true);
    expect(parsed?.response.text()).toBe('read failed: malformed chunked request body: invalid chunk size line');
    expect(parsed?.consumed).toBe(data.length);
    expect(closed).toBe(true);
    expect(paths).toEqual(['/size']);
  });
});

describe('request-line oddities', () => {
  /** Answers with a picture of the request as the app sees it. */
  const pictureApp: App = (env: Environ, startResponse: StartResponse) => {
    const keys = ['REQUEST_METHOD', 'RAW_PATH_INFO', 'PATH_INFO', 'QUERY_STRING', 'HTTP_HOST'];
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [keys.map((key) => `${key}=${String(envGet(env, key))}`).join('\n')];
  };

  it.each([
    [
      'absolute-form is kept as the path, as eventlet does',
      'GET http://other.example/p%41th?x=1 HTTP/1.1',
      'REQUEST_METHOD=GET\nRAW_PATH_INFO=http://other.example/p%41th\nPATH_INFO=http://other.example/pAth\nQUERY_STRING=x=1\nHTTP_HOST=localhost',
    ],
    ['asterisk-form', 'OPTIONS * HTTP/1.1', 'REQUEST_METHOD=OPTIONS\nRAW_PATH_INFO=*\nPATH_INFO=*\nQUERY_STRING=\nHTTP_HOST=localhost'],
    ['a lower-case method, verbatim', 'get /x HTTP/1.1', 'REQUEST_METHOD=get\nRAW_PATH_INFO=/x\nPATH_INFO=/x\nQUERY_STRING=\nHTTP_HOST=localhost'],
  ])('%s: served, and the connection serves again', async (_label, requestLine, picture) => {
    const served = await serve(pictureApp);
    const conn = await RawConnection.open(served.port);
    await conn.write(`${requestLine}\r\nHost: localhost\r\n\r\n`);
    expect((await conn.readResponse()).text()).toBe(picture);
    await conn.write(head('GET /again'));
    expect((await conn.readResponse()).text()).toContain('PATH_INFO=/again');
  });

  it('a 2xx to CONNECT: no Content-Length, Transfer-Encoding or body (RFC 9110 §9.3.6: the client takes what follows for its tunnel), and the connection closes', async () => {
    const served = await serve((_env: Environ, startResponse: StartResponse) => {
      startResponse('200 OK', [['X-Tunnel', 'no']]);
      return ['not a tunnel'];
    });
    // The client starts its TLS handshake in the tunnel at once: it must not become a request.
    const { data, closed } = await rawExchange(
      served.port,
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01\x00\x05hello',
      3000,
    );
    expect(withoutDate(data.toString('latin1'))).toBe('HTTP/1.1 200 OK\r\nX-Tunnel: no\r\nConnection: close\r\n\r\n');
    expect(closed).toBe(true);
    await until(() => served.logLines().length === 1, 2000, 'the access line');
    expect(served.logLines()[0]).toMatch(/"CONNECT example\.com:443 HTTP\/1\.1" 200 0 /);
  });

  it('a streamed 2xx to CONNECT: no chunked framing either', async () => {
    const served = await serve((_env: Environ, startResponse: StartResponse) => {
      startResponse('200 Connection Established', []);
      return (async function* () {
        yield 'not a tunnel';
      })();
    });
    const { data, closed } = await rawExchange(served.port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 3000);
    expect(withoutDate(data.toString('latin1'))).toBe('HTTP/1.1 200 Connection Established\r\nConnection: close\r\n\r\n');
    expect(closed).toBe(true);
  });

  it('a CONNECT the app refuses is an ordinary response: its body is sent and the connection stays open', async () => {
    const served = await serve((env: Environ, startResponse: StartResponse) => {
      if (envGet(env, 'REQUEST_METHOD') === 'CONNECT') {
        startResponse('405 Method Not Allowed', [['Content-Type', 'text/plain']]);
        return ['no tunnels here'];
      }
      startResponse('200 OK', []);
      return ['after'];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    const refused = await conn.readResponse();
    expect(refused.status).toBe(405);
    expect(refused.text()).toBe('no tunnels here');
    await conn.write(head('GET /after'));
    expect((await conn.readResponse()).text()).toBe('after');
  });

  it('the HTTP/2 prior-knowledge preface: 505 and the close; the app never runs', async () => {
    let calls = 0;
    const served = await serve((_env: Environ, startResponse: StartResponse) => {
      calls += 1;
      startResponse('200 OK', []);
      return ['ok'];
    });
    const { data, closed } = await rawExchange(served.port, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00', 3000);
    expect(withoutDate(data.toString('latin1'))).toBe(
      'HTTP/1.1 505 HTTP Version Not Supported\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
    );
    expect(closed).toBe(true);
    await expectServes(served);
    expect(calls).toBe(1);
  });
});

describe('clients that connect and say nothing', () => {
  it('300 that leave at once (close, reset or half-close) and 100 that stay silent: a good client is served meanwhile, nothing is logged, every descriptor comes back', async () => {
    // A backlog that holds each batch: a full accept queue drops handshakes, and the kernel's
    // retries (seconds apart) would be measured instead of the server.
    const listener = track(listen(['127.0.0.1', 0], { backlog: 1024 }));
    const served = await serveOn(listener, (_env: Environ, startResponse: StartResponse) => {
      startResponse('200 OK', []);
      return ['ok'];
    });
    const baseline = await fdBaseline(served);
    const silent: net.Socket[] = [];
    const halfClosed: RawConnection[] = [];
    for (let batch = 0; batch < 4; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          if (i % 4 === 2) {
            const conn = await RawConnection.open(served.port);
            conn.end();
            halfClosed.push(conn);
            return;
          }
          const socket = await connect(served.port);
          if (i % 4 === 0) socket.destroy();
          else if (i % 4 === 1) socket.resetAndDestroy();
          else silent.push(socket);
        }),
      );
    }
    const started = Date.now();
    await expectServes(served);
    expect(Date.now() - started).toBeLessThan(2000);
    // A client that half-closes without a byte gets no byte, and the server closes its side.
    for (const conn of halfClosed) expect(await conn.waitClosed(3000)).toBe(true);
    expect(halfClosed.every((conn) => conn.received.length === 0)).toBe(true);
    for (const socket of silent) socket.destroy();
    await expectFdsBackTo(baseline);
    await sleep(50);
    expect(served.logLines().filter((line) => !/"GET \/ok HTTP\/1\.1" 200/.test(line))).toEqual([]);
  });
});

describe('server.close() and clients that hardly began', () => {
  it('does not wait for clients that sent only part of a request line, or only empty lines: they are closed at once (eventlet closes them as idle)', async () => {
    const served = await serve((_env: Environ, startResponse: StartResponse) => {
      startResponse('200 OK', []);
      return ['ok'];
    });
    const partial = ['G', 'GET /half-a-line', '\r\n', '\r\n\r\nGET / HT', ''];
    const conns = await Promise.all(partial.map(async (bytes) => {
      const conn = await RawConnection.open(served.port);
      if (bytes !== '') await conn.write(bytes);
      return conn;
    }));
    // The bytes are in the server's hands before it closes.
    await serverHasRead(served.port);
    await within(served.close(), 3000, 'close() with half-begun clients');
    for (const conn of conns) {
      expect(await conn.waitClosed(1000)).toBe(true);
      expect(conn.received.length).toBe(0);
    }
    expect(served.logLines()).toEqual([]);
  });

  it('a client whose request line is complete may finish its head after close(): it is served, with Connection: close', async () => {
    const served = await serve((_env: Environ, startResponse: StartResponse) => {
      startResponse('200 OK', []);
      return ['late but served'];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write('GET /late HTTP/1.1\r\n');
    await serverHasRead(served.port);
    let closed = false;
    const closing = served.close().then(() => (closed = true));
    await sleep(100);
    expect(closed).toBe(false);
    await conn.write('Host: localhost\r\n\r\n');
    const res = await conn.readResponse();
    expect(res.text()).toBe('late but served');
    expect(res.header('connection')).toBe('close');
    expect(await conn.waitClosed(3000)).toBe(true);
    await within(closing, 3000, 'close() once the late request is served');
  });
});

describe('a request followed by junk', () => {
  it('megabytes without a line end after a request: the request is answered, then 414 and the close; the server stops reading the junk meanwhile', async () => {
    const release = deferred();
    let calls = 0;
    const served = await serve(async (_env: Environ, startResponse: StartResponse) => {
      calls += 1;
      await release.promise;
      startResponse('200 OK', []);
      return ['answered'];
    });
    const conn = await RawConnection.open(served.port);
    const junk = Buffer.alloc(32 * 1024 * KIB, 'j');
    conn.socket.write(Buffer.concat([Buffer.from(head('GET /first')), junk]));
    // While the app holds the request, the server reads a bounded lookahead: the rest of the
    // junk stays with the client.
    const unsent = await settledValue(() => conn.socket.writableLength, 300, 10000, 'the client writes to stall');
    expect(unsent).toBeGreaterThan(16 * 1024 * KIB);
    release.resolve();
    const res = await conn.readResponse();
    expect(res.text()).toBe('answered');
    expect(withoutDate((await conn.readToEnd(5000)).toString('latin1'))).toBe(
      'HTTP/1.0 414 Request URI Too Long\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
    );
    expect(calls).toBe(1);
    await expectServes(served);
  });
});

describe('greedy pipelining clients', () => {
  it('four clients flooding pipelined requests do not keep a newcomer waiting: each of 10 fresh requests is answered within 3 s', async () => {
    let flooded = 0;
    const served = await serve((env: Environ, startResponse: StartResponse) => {
      const path = String(envGet(env, 'PATH_INFO'));
      if (path === '/flood') flooded += 1;
      startResponse('200 OK', []);
      return [path];
    }, { logOutput: false });
    let flooding = true;
    const batch = head('GET /flood').repeat(500);
    const floods = await Promise.all(Array.from({ length: 4 }, () => connect(served.port)));
    const running = floods.map(async (socket) => {
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      while (flooding && !socket.destroyed) {
        if (socket.write(batch)) {
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        await new Promise<void>((resolve) => {
          const done = () => {
            socket.off('drain', done).off('close', done);
            resolve();
          };
          socket.on('drain', done).on('close', done);
        });
      }
    });
    try {
      await until(() => flooded > 1000, 5000, 'the flood to be served');
      for (let i = 0; i < 10; i++) {
        const started = Date.now();
        await within(expectServes(served, `/newcomer${i}`), 3000, `newcomer ${i} to be answered`);
        expect(Date.now() - started).toBeLessThan(3000);
      }
      // The newcomers competed with a flood that was still going.
      const before = flooded;
      await until(() => flooded > before, 3000, 'the flood to go on');
    } finally {
      flooding = false;
      for (const socket of floods) socket.destroy();
      await Promise.all(running);
    }
  });
});
