// The black-box intents of eventlet's tests/wsgi_test.py (reference §10) that no other test file
// covered, each checked against this server over a real socket. Where SPEC §12 deliberately
// differs from eventlet, the test checks the SPEC's behaviour and says so.
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listen, wrapSsl, type Environ, type StartResponse } from '../ts/index.js';
import { cleanup, serve, serveOn, track, type App, type Served } from './helpers/serve.js';
import { RawConnection } from './helpers/raw-client.js';
import { parseResponse } from './helpers/http-parse.js';
import { envApp, envGet, envSet, helloApp, inputOf } from './helpers/apps.js';
import { makeTestPki, removeTestPki, type TestPki } from './helpers/tls-certs.js';
import { deferred, head, sleep, until, within, withoutDate } from './helpers/util.js';

afterEach(cleanup);

const latin1 = (b: Buffer) => b.toString('latin1');

/** A fresh connection gets `hello world` for GET /ok: the server is still serving. */
async function expectStillServing(served: Served): Promise<void> {
  const conn = await RawConnection.open(served.port);
  try {
    await conn.write(head('GET /ok', ['Host: localhost', 'Connection: close']));
    const res = await conn.readResponse();
    expect(res.statusLine).toBe('HTTP/1.1 200 OK');
    expect(res.text()).toBe('hello world');
  } finally {
    conn.destroy();
  }
}

/** Route /ok answers `hello world`; every other path runs `app`. */
function withOkRoute(app: App): App {
  return ((env: Environ, sr: StartResponse) => {
    if (env.PATH_INFO === '/ok') return helloApp(env, sr);
    return (app as (env: Environ, sr: StartResponse) => unknown)(env, sr);
  }) as App;
}

describe('request bodies', () => {
  it('POST HTTP/1.0, Content-Length 3 and 20 junk bytes after it: read() gives exactly the body (eventlet test_007_get_arg)', async () => {
    const bodies: string[] = [];
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      const body = latin1(await inputOf(env).read());
      bodies.push(body);
      const a = new URLSearchParams(body).get('a');
      sr('200 OK', [['Content-type', 'text/plain']]);
      return [`a is ${a}, body is ${body}`];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write('POST / HTTP/1.0\r\nHost: localhost\r\nContent-Length: 3\r\n\r\na=a');
    await conn.write('01234567890123456789');
    const res = await conn.readResponse();
    expect(res.statusLine).toBe('HTTP/1.1 200 OK');
    expect(res.text()).toBe('a is a, body is a=a');
    expect(res.header('connection')?.toLowerCase()).toBe('close');
    expect(await conn.waitClosed()).toBe(true);
    // The junk was neither part of the body nor taken as a request.
    expect(conn.unread.length).toBe(0);
    expect(bodies).toEqual(['a=a']);
  });

  it('transfer-encoding: Chunked (any case) and a short read(10): the rest is discarded, the next request works (eventlet TestChunkedInput test_short_read)', async () => {
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      if (env.PATH_INFO === '/ping') {
        sr('200 OK', []);
        return ['pong'];
      }
      const part = await inputOf(env).read(10);
      sr('200 OK', []);
      return [part];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(
      'POST /short-read HTTP/1.1\r\nHost: localhost\r\ntransfer-encoding: Chunked\r\n\r\n' +
        '10\r\nthis is chunked\n\r\n7\r\nline 2\n\r\n5\r\nline3\r\n0\r\n\r\n',
    );
    expect((await conn.readResponse()).text()).toBe('this is ch');
    await conn.write(head('GET /ping'));
    expect((await conn.readResponse()).text()).toBe('pong');
  });

  it('a chunked body cut inside chunk data and the client gone: the read(10) rejects, nothing spins, the server goes on (eventlet test_close_before_finished)', async () => {
    const failed = deferred<unknown>();
    const served = await serve(
      withOkRoute(async (env: Environ, sr: StartResponse) => {
        try {
          await inputOf(env).read(10);
        } catch (err) {
          failed.resolve(err);
        }
        sr('200 OK', []);
        return ['x'];
      }),
    );
    const conn = await RawConnection.open(served.port);
    await conn.write('POST /short-read HTTP/1.1\r\nHost: localhost\r\ntransfer-encoding: Chunked\r\n\r\n4\r\nthi');
    conn.destroy();
    expect(await within(failed.promise, 2000, 'the read to reject')).toBeInstanceOf(Error);
    // A server looping on the dead connection would burn a core; idle, it uses next to nothing.
    const before = process.cpuUsage();
    await sleep(300);
    const used = process.cpuUsage(before);
    expect((used.user + used.system) / 1000).toBeLessThan(150);
    await expectStillServing(served);
  });

  it('an app that answers without reading a chunked body the client abandons, after replacing the post-hook list: the hook runs (eventlet test_aborted_post_io_error)', async () => {
    const hookEnvs: Environ[] = [];
    const served = await serve(
      withOkRoute((env: Environ, sr: StartResponse) => {
        env['eventlet.posthooks'] = [[(e: Environ) => hookEnvs.push(e)]];
        sr('200 OK', []);
        return [];
      }),
    );
    const conn = await RawConnection.open(served.port);
    await conn.write('PUT /somefile HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n' + 'a'.repeat(12));
    await sleep(50);
    conn.destroy();
    await until(() => hookEnvs.length === 1, 2000, 'the post hook');
    expect(hookEnvs[0]!.PATH_INFO).toBe('/somefile');
    await sleep(50);
    expect(hookEnvs.length).toBe(1);
    await expectStillServing(served);
  });

  it('chunk extensions, even with spaces and a NUL, on a body the app never reads are skipped while discarding (eventlet test_dirt)', async () => {
    const served = await serve((_env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return ['pong'];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(
      'POST /ping HTTP/1.1\r\nHost: localhost\r\ntransfer-encoding: Chunked\r\n\r\n' +
        '10; here is dirt\0bla\r\nthis is chunked\n\r\n7\r\nline 2\n\r\n5\r\nline3\r\n0\r\n\r\n',
    );
    expect((await conn.readResponse()).text()).toBe('pong');
    await conn.write(head('GET /ping'));
    expect((await conn.readResponse()).text()).toBe('pong');
  });
});

describe('Content-Length the server refuses', () => {
  it.each([
    ['argh', 'Content-length: argh'],
    ['empty', 'Content-length:'],
    ['blank', 'Content-length: '],
    ['negative', 'Content-length: -10'],
  ])('HTTP/1.0 GET, Content-length %s: 400 Bad Request, never 500 (eventlet test_023_bad_content_length)', async (_label, line) => {
    let calls = 0;
    const served = await serve((env: Environ, sr: StartResponse) => {
      calls += 1;
      return helloApp(env, sr);
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(`GET / HTTP/1.0\r\nHost: localhost\r\n${line}\r\n\r\n`);
    expect(await conn.waitClosed()).toBe(true);
    expect(withoutDate(latin1(conn.received))).toBe('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    expect(calls).toBe(0);
    await expectStillServing(served);
  });
});

describe('limits', () => {
  it('urlLengthLimit 20000 serves a 15000-character path (eventlet test_configurable_url_length_limit)', async () => {
    const served = await serve((env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return [String(env.PATH_INFO.length)];
    }, { urlLengthLimit: 20000 });
    const conn = await RawConnection.open(served.port);
    await conn.write(head(`GET /${'a'.repeat(14999)}`));
    const res = await conn.readResponse();
    expect(res.statusLine).toBe('HTTP/1.1 200 OK');
    expect(res.text()).toBe('15000');
  });
});

describe('100-continue', () => {
  it('after a 417 sent without reading the body, the server does not swallow what the client keeps sending: its writes fail (eventlet test_024)', async () => {
    const served = await serve((env: Environ, sr: StartResponse) => {
      if (Number(envGet(env, 'CONTENT_LENGTH')) > 1024) {
        sr('417 Expectation Failed', [['Content-Length', '7']]);
        return ['failure'];
      }
      sr('200 OK', []);
      return ['ok'];
    });
    // allowHalfOpen: keep writing after the server's FIN, as the eventlet client does.
    const socket = net.connect({ host: '127.0.0.1', port: served.port, allowHalfOpen: true });
    try {
      const writeError = deferred<NodeJS.ErrnoException>();
      socket.on('error', (err) => writeError.resolve(err));
      let received = Buffer.alloc(0);
      socket.on('data', (b: Buffer) => (received = Buffer.concat([received, b])));
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write('PUT / HTTP/1.1\r\nHost: localhost\r\nContent-length: 1025\r\nExpect: 100-continue\r\n\r\n');
      await until(() => received.includes('failure'), 2000, 'the 417');
      const res = parseResponse(received, false)!.response;
      expect(res.statusLine).toBe('HTTP/1.1 417 Expectation Failed');
      expect(res.text()).toBe('failure');
      expect(res.header('connection')).toBe('close');
      expect(latin1(received)).not.toContain('100 Continue');
      socket.write('x'.repeat(25));
      const big = Buffer.alloc(2_500_000, 'z');
      const pump = setInterval(() => {
        if (!socket.destroyed && socket.writableLength < 4 * big.length) socket.write(big);
      }, 20);
      try {
        const err = await within(writeError.promise, 2000, 'a write error');
        expect(['EPIPE', 'ECONNRESET']).toContain(err.code);
      } finally {
        clearInterval(pump);
      }
    } finally {
      socket.destroy();
    }
  });
});

describe('keep-alive options', () => {
  it('keepalive: 0 closes like false, even for HTTP/1.0 keep-alive (eventlet test_026b_http_10_zero_keepalive)', async () => {
    const served = await serve(helloApp, { keepalive: 0 });
    for (const request of [
      head('GET /', ['Host: localhost', 'Connection: keep-alive'], 'HTTP/1.0'),
      head('GET /', ['Host: localhost', 'Connection: keep-alive']),
    ]) {
      const conn = await RawConnection.open(served.port);
      await conn.write(request);
      const res = await conn.readResponse();
      expect(res.text()).toBe('hello world');
      expect(res.header('connection')).toBe('close');
      expect(await conn.waitClosed()).toBe(true);
    }
  });

  it('keepalive: 2.5 and a client asking keep-alive: Connection: keep-alive, Keep-Alive: timeout=2 (eventlet test_server_keepalive_sent_in_headers)', async () => {
    const served = await serve(helloApp, { keepalive: 2.5 });
    for (const version of ['HTTP/1.1', 'HTTP/1.0']) {
      const conn = await RawConnection.open(served.port);
      await conn.write(head('GET /', ['Host: localhost', 'Connection: keep-alive'], version));
      const res = await conn.readResponse();
      expect(res.text()).toBe('hello world');
      expect(latin1(res.rawHead)).toContain('\r\nConnection: keep-alive\r\nKeep-Alive: timeout=2\r\n');
      expect(res.headerAll('keep-alive')).toEqual(['timeout=2']);
      conn.destroy();
    }
  });

  it('keepalive as a number, a client that does not ask: no Connection and no Keep-Alive header (eventlet test_server_keepalive_as_timeout)', async () => {
    const served = await serve(helloApp, { keepalive: 2.5 });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    const res = await conn.readResponse();
    expect(res.text()).toBe('hello world');
    expect(res.header('connection')).toBeUndefined();
    expect(res.header('keep-alive')).toBeUndefined();
  });
});

describe('responses', () => {
  it('an app Content-Length given as a number and a string chunk (eventlet test_partial_writes_are_handled)', async () => {
    const served = await serve((_env: Environ, sr: StartResponse) => {
      sr('200 OK', [['Content-Length', 3]]);
      return (function* () {
        yield 'asd';
      })();
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    const res = await conn.readResponse();
    expect(res.headerAll('content-length')).toEqual(['3']);
    expect(res.header('transfer-encoding')).toBeUndefined();
    expect(res.rawBody.toString('latin1')).toBe('asd');
    await conn.write(head('GET /'));
    expect((await conn.readResponse()).text()).toBe('asd');
  });

  it('204 and 304 sent through write(""): no Transfer-Encoding, no Content-Length; keep-alive echoed when asked (eventlet test_no_transfer_encoding_in_empty_response; Host added, SPEC §12)', async () => {
    const served = await serve((env: Environ, sr: StartResponse) => {
      const write = sr(env.PATH_INFO === '/304' ? '304 Not Modified' : '204 No Content', []);
      write('');
      return [];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('DELETE /foo', ['Host: localhost', 'Connection: keep-alive']));
    const first = await conn.readResponse();
    expect(first.statusLine).toBe('HTTP/1.1 204 No Content');
    expect(first.header('transfer-encoding')).toBeUndefined();
    expect(first.header('content-length')).toBeUndefined();
    expect(first.header('connection')).toBe('keep-alive');
    await conn.write(head('GET /304'));
    const second = await conn.readResponse();
    expect(second.statusLine).toBe('HTTP/1.1 304 Not Modified');
    expect(second.header('transfer-encoding')).toBeUndefined();
    expect(second.header('content-length')).toBeUndefined();
    expect(second.header('connection')).toBeUndefined();
    await conn.write(head('DELETE /foo', ['Host: localhost', 'Connection: keep-alive']));
    const third = await conn.readResponse();
    expect(third.statusLine).toBe('HTTP/1.1 204 No Content');
    // Nothing but the three heads came: no body bytes, no chunk framing.
    expect(conn.unread.length).toBe(0);
    expect(latin1(conn.received).split('\r\n\r\n')).toHaveLength(4);
  });

  it('a generator that wraps an empty body: 0\\r\\n\\r\\n, the socket kept open until Connection: close (eventlet IterableAlreadyHandledTest)', async () => {
    const served = await serve((_env: Environ, sr: StartResponse) =>
      (function* () {
        sr('200 OK', []);
        yield* [] as string[];
      })(),
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    const first = await conn.readResponse();
    expect(first.statusLine).toBe('HTTP/1.1 200 OK');
    expect(first.header('connection')).toBeUndefined();
    expect(first.header('transfer-encoding')).toBe('chunked');
    expect(latin1(first.rawBody)).toBe('0\r\n\r\n');
    expect(await conn.waitClosed(200)).toBe(false);
    await conn.write(head('GET /', ['Host: localhost', 'Connection: close']));
    const second = await conn.readResponse();
    expect(second.header('connection')).toBe('close');
    expect(second.header('transfer-encoding')).toBe('chunked');
    expect(latin1(second.rawBody)).toBe('0\r\n\r\n');
    expect(await conn.waitClosed()).toBe(true);
    expect(conn.unread.length).toBe(0);
  });

  it('an app that clobbers the standard environ keys still answers 200, and the connection goes on (eventlet test_021_environ_clobbering)', async () => {
    const keys = [
      'wsgi.version', 'wsgi.url_scheme', 'wsgi.input', 'wsgi.errors', 'wsgi.multithread', 'wsgi.multiprocess',
      'wsgi.run_once', 'REQUEST_METHOD', 'SCRIPT_NAME', 'RAW_PATH_INFO', 'PATH_INFO', 'QUERY_STRING',
      'CONTENT_TYPE', 'CONTENT_LENGTH', 'SERVER_NAME', 'SERVER_PORT', 'SERVER_PROTOCOL',
    ];
    const served = await serve((env: Environ, sr: StartResponse) => {
      for (const key of keys) envSet(env, key, null);
      sr('200 OK', [['Content-type', 'text/plain']]);
      return [];
    });
    const conn = await RawConnection.open(served.port);
    // An unread body too: the server must discard it without the app's wsgi.input.
    await conn.write(head('POST /', ['Host: localhost', 'Content-Length: 5']) + 'abcde');
    const first = await conn.readResponse();
    expect(first.statusLine).toBe('HTTP/1.1 200 OK');
    expect(first.header('content-length')).toBe('0');
    await conn.write(head('GET /', ['Host: localhost', 'Connection: close']));
    expect((await conn.readResponse()).statusLine).toBe('HTTP/1.1 200 OK');
    expect(await conn.waitClosed()).toBe(true);
  });
});

describe('minimum chunk size and timing', () => {
  /** A Content-Length 2 body of two spaces; the second waits for `release`. */
  function yieldSpaces(override: boolean) {
    const release = deferred();
    const started = deferred();
    const app = (env: Environ, sr: StartResponse) => {
      if (override) envSet(env, 'eventlet.minimum_write_chunk_size', 1);
      sr('200 OK', [['Content-Length', '2']]);
      return (async function* () {
        yield ' ';
        started.resolve();
        await release.promise;
        yield ' ';
      })();
    };
    return { app, release, started };
  }

  it("env['eventlet.minimum_write_chunk_size'] = 1: the head and the first space arrive before the app goes on (eventlet test_chunked_readline_wsgi_override_minimum_chunk_size)", async () => {
    const { app, release } = yieldSpaces(true);
    const served = await serve(app);
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /yield_spaces/override_min'));
    const headBytes = await conn.readUntil('\r\n\r\n', 1000);
    expect(latin1(headBytes)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(latin1(await conn.readBytes(1, 1000))).toBe(' ');
    expect((await conn.unreadAfter(50)).length).toBe(0);
    release.resolve();
    expect(latin1(await conn.readBytes(1, 1000))).toBe(' ');
  });

  it('the default minimum: not even the head arrives while the app is held (eventlet test_chunked_readline_wsgi_not_override_minimum_chunk_size)', async () => {
    const { app, release, started } = yieldSpaces(false);
    const served = await serve(app);
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /yield_spaces'));
    await within(started.promise, 1000, 'the first yield');
    expect((await conn.unreadAfter(150)).length).toBe(0);
    release.resolve();
    const res = await conn.readResponse();
    expect(res.statusLine).toBe('HTTP/1.1 200 OK');
    expect(latin1(res.rawBody)).toBe('  ');
  });
});

describe('disconnects', () => {
  it('a client that sends a GET and leaves before a Content-Length 9876 answer: no stack trace logged, the server goes on (eventlet test_client_disconnect)', async () => {
    const release = deferred();
    const done: string[] = [];
    const served = await serve(
      withOkRoute(async (env: Environ, sr: StartResponse) => {
        env['eventlet.posthooks'].push([() => done.push('hook')]);
        await release.promise;
        sr('200 OK', [['Content-Length', '9876']]);
        return (function* () {
          yield 'a'.repeat(9876);
        })();
      }),
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /long'));
    conn.destroy();
    await sleep(100);
    release.resolve();
    await until(() => done.length === 1, 2000, 'the request to finish');
    await expectStillServing(served);
    await sleep(50);
    expect(served.logLines().filter((l) => /^\s+at /.test(l))).toEqual([]);
    expect(served.logText()).not.toMatch(/EPIPE|ECONNRESET|Traceback/);
  });
});

describe('logging', () => {
  it('logOutput: false leaves the log exactly empty (eventlet test_log_disable)', async () => {
    const served = await serve(helloApp, { logOutput: false });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /yo!'));
    expect((await conn.readResponse()).text()).toBe('hello world');
    await conn.write(head('GET /again', ['Host: localhost', 'Connection: close']));
    expect((await conn.readResponse()).text()).toBe('hello world');
    await conn.waitClosed();
    await served.close();
    expect(served.logText()).toBe('');
  });
});

describe('addresses', () => {
  let ipv6 = true;
  beforeAll(async () => {
    ipv6 = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(0, '::1', () => probe.close(() => resolve(true)));
    });
  });

  it('a server on ::1 serves, and the environ has the IPv6 addresses (eventlet test_ipv6)', async (ctx) => {
    if (!ipv6) ctx.skip();
    const served = await serveOn(track(listen(['::1', 0])), envApp);
    expect(served.server.address).toMatchObject({ host: '::1' });
    const conn = await RawConnection.open({ host: '::1', port: served.port });
    await conn.write(head('GET /v6', ['Host: [::1]', 'Connection: close']));
    const res = await conn.readResponse();
    expect(res.statusLine).toBe('HTTP/1.1 200 OK');
    const env = JSON.parse(res.text()) as Record<string, unknown>;
    expect(env.SERVER_NAME).toBe('::1');
    expect(env.SERVER_PORT).toBe(String(served.port));
    expect(env.REMOTE_ADDR).toBe('::1');
    expect(env.REMOTE_PORT).toBe(String(conn.localPort));
    expect(env.PATH_INFO).toBe('/v6');
  });
});

describe.skipIf(process.platform === 'win32')('over TLS', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makeTestPki();
  });
  afterAll(() => removeTestPki(pki));

  async function serveTls(app: App): Promise<Served> {
    const { certfile, keyfile } = pki.server.ecdsaPkcs8;
    return serveOn(track(wrapSsl(listen(['127.0.0.1', 0]), { certfile, keyfile, serverSide: true })), app);
  }

  /** Sends `request` over TLS and resolves with every byte until the server closes. */
  function tlsExchange(port: number, request: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: pki.root.cert });
      const received: Buffer[] = [];
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no close within 3 s; got ${JSON.stringify(latin1(Buffer.concat(received)))}`));
      }, 3000);
      socket.on('secureConnect', () => socket.write(request));
      socket.on('data', (b: Buffer) => received.push(b));
      socket.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(received));
      });
    });
  }

  it('POST with "Content-length:3" (no space) and no response headers from the app: the echo ends the response (eventlet test_012_ssl_server)', async () => {
    const served = await serveTls(async (env: Environ, sr: StartResponse) => {
      const body = await inputOf(env).read();
      sr('200 OK', []);
      return [body];
    });
    const data = await tlsExchange(served.port, 'POST /foo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-length:3\r\n\r\nabc');
    expect(latin1(data)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(latin1(data).endsWith('\r\n\r\nabc')).toBe(true);
    const res = parseResponse(data, true)!.response;
    expect(res.header('content-length')).toBe('3');
    expect(res.header('connection')).toBe('close');
  });

  it('an app returning [""]: only the head, Content-Length: 0 (eventlet test_013_empty_return)', async () => {
    const served = await serveTls((_env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return [''];
    });
    const data = await tlsExchange(served.port, 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(latin1(data)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(latin1(data).endsWith('\r\n\r\n')).toBe(true);
    expect(latin1(data).indexOf('\r\n\r\n')).toBe(data.length - 4);
    const res = parseResponse(data, true)!.response;
    expect(res.header('content-length')).toBe('0');
    expect(res.header('transfer-encoding')).toBeUndefined();
  });
});
