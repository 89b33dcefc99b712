// SPEC §8: responses on the wire — framing, Date, Connection, keep-alive, pipelining,
// header capitalization, chunk buffering, maxHttpVersion, Content-Length enforcement.
import { afterEach, describe, expect, it } from 'vitest';
import type { Environ, StartResponse } from '../ts/index.js';
import { cleanup, serve, type App, type ServerOptions } from './helpers/serve.js';
import { RawConnection, rawExchange } from './helpers/raw-client.js';
import { envSet, helloApp, pathApp } from './helpers/apps.js';
import { head, sleep } from './helpers/util.js';

afterEach(cleanup);

function generatorApp(chunks: Array<string | Buffer>, status = '200 OK', headers: Array<[string, string]> = []): App {
  return (_env: Environ, sr: StartResponse) => {
    sr(status, headers);
    return (function* () {
      yield* chunks;
    })();
  };
}

/** One request on a fresh connection; waits for the server to close it when it should. */
async function exchange(app: App, request: string, options: ServerOptions = {}, method = 'GET') {
  const served = await serve(app, options);
  const conn = await RawConnection.open(served.port);
  await conn.write(request);
  const res = await conn.readResponse({ method });
  return { res, conn, served };
}

const DATE_RE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

describe('body framing', () => {
  it('an array body gets a Content-Length added, no Transfer-Encoding', async () => {
    const { res } = await exchange((_env: Environ, sr: StartResponse) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return ['hello', ' ', 'world'];
    }, head('GET /'));
    expect(res.header('content-length')).toBe('11');
    expect(res.header('transfer-encoding')).toBeUndefined();
    expect(res.text()).toBe('hello world');
  });

  it('an app Content-Length is sent once, not doubled (eventlet test_016)', async () => {
    const { res } = await exchange((_env: Environ, sr: StartResponse) => {
      sr('200 OK', [['Content-Length', '7']]);
      return ['testing'];
    }, head('GET /'));
    expect(res.headerAll('content-length')).toEqual(['7']);
    expect(res.text()).toBe('testing');
  });

  it('a generator body on HTTP/1.1 is chunked (eventlet test_009)', async () => {
    const { res } = await exchange(generatorApp(['this', 'is', 'chunked']), head('GET /'));
    expect(res.header('transfer-encoding')).toBe('chunked');
    expect(res.header('content-length')).toBeUndefined();
    expect(res.text()).toBe('thisischunked');
  });

  it('exact chunk bytes with minimumChunkSize 0 and an empty yield (eventlet test_chunked_response_when_app_yields_empty_string)', async () => {
    const app = (env: Environ, sr: StartResponse) => {
      envSet(env, 'eventlet.minimum_write_chunk_size', 0);
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return (function* () {
        yield 'stuff';
        yield '';
        yield 'more stuff';
      })();
    };
    const { res, conn } = await exchange(app, head('GET /', ['Host: localhost', 'Connection: close']));
    expect(res.header('transfer-encoding')).toBe('chunked');
    expect(res.rawBody.toString('latin1')).toBe('5\r\nstuff\r\na\r\nmore stuff\r\n0\r\n\r\n');
    expect(await conn.waitClosed()).toBe(true);
    expect(conn.unread.length).toBe(0);
  });

  it('a generator that yields only "" gives exactly 0\\r\\n\\r\\n (eventlet test_zero_length_chunked_response)', async () => {
    const { res } = await exchange(generatorApp(['']), head('GET /', ['Host: localhost', 'Connection: close']));
    expect(res.header('transfer-encoding')).toBe('chunked');
    expect(res.rawBody.toString('latin1')).toBe('0\r\n\r\n');
  });

  it('a generator that yields nothing gives exactly 0\\r\\n\\r\\n', async () => {
    const { res } = await exchange(generatorApp([]), head('GET /'));
    expect(res.header('transfer-encoding')).toBe('chunked');
    expect(res.rawBody.toString('latin1')).toBe('0\r\n\r\n');
  });

  it('a big generator body is sent as several chunks; after the 0 chunk only \\r\\n, then EOF (eventlet test_011)', async () => {
    const big = Array.from({ length: 10 }, () => 'a'.repeat(8192));
    const { res, conn } = await exchange(generatorApp(big), head('GET /', ['Host: localhost', 'Connection: close']));
    expect(res.chunks.length).toBeGreaterThan(1);
    expect(res.body.length).toBe(81920);
    expect(res.rawBody.subarray(-5).toString('latin1')).toBe('0\r\n\r\n');
    expect(await conn.waitClosed()).toBe(true);
    expect(conn.unread.length).toBe(0);
  });

  it('a generator body on HTTP/1.0 is not chunked: Connection: close and EOF-delimited (eventlet test_010)', async () => {
    const { res, conn } = await exchange(generatorApp(['this', 'is', 'chunked']), head('GET /', ['Host: localhost'], 'HTTP/1.0'));
    expect(res.header('transfer-encoding')).toBeUndefined();
    expect(res.header('connection')?.toLowerCase()).toBe('close');
    expect(res.framing).toBe('close');
    expect(res.text()).toBe('thisischunked');
    expect(conn.closed).toBe(true);
  });

  it('HTTP/1.0 keep-alive + generator body: Connection: close, not chunked (eventlet test_close_chunked_with_1_0_client)', async () => {
    const { res, conn } = await exchange(
      generatorApp(['this', 'is', 'chunked']),
      head('GET /', ['Host: localhost', 'Connection: keep-alive'], 'HTTP/1.0'),
    );
    expect(res.header('connection')?.toLowerCase()).toBe('close');
    expect(res.header('transfer-encoding')).toBeUndefined();
    expect(res.text()).toBe('thisischunked');
    expect(conn.closed).toBe(true);
  });
});

describe('responses without a body (SPEC §12: eventlet still sends the body bytes)', () => {
  it('HEAD: no body bytes, no Transfer-Encoding; the next request on the connection parses cleanly', async () => {
    const served = await serve(helloApp);
    const conn = await RawConnection.open(served.port);
    await conn.write(head('HEAD /') + head('GET /after'));
    const res = await conn.readResponse({ method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.header('transfer-encoding')).toBeUndefined();
    const next = await conn.readResponse();
    expect(next.statusLine).toBe('HTTP/1.1 200 OK');
    expect(next.text()).toBe('hello world');
  });

  it('HEAD with a generator body: no chunked framing, no body bytes', async () => {
    const served = await serve(generatorApp(['streamed']));
    const conn = await RawConnection.open(served.port);
    await conn.write(head('HEAD /') + head('GET /after'));
    const res = await conn.readResponse({ method: 'HEAD' });
    expect(res.header('transfer-encoding')).toBeUndefined();
    const next = await conn.readResponse();
    expect(next.statusLine).toBe('HTTP/1.1 200 OK');
    expect(next.text()).toBe('streamed');
  });

  it.each([
    ['204 No Content', 'array'],
    ['204 No Content', 'generator'],
    ['304 Not Modified', 'array'],
    ['304 Not Modified', 'generator'],
  ])('%s (%s body from the app): no body bytes, no Transfer-Encoding', async (status, kind) => {
    const app = (env: Environ, sr: StartResponse) => {
      if (env['PATH_INFO'] === '/after') {
        sr('200 OK', []);
        return ['after'];
      }
      sr(status, []);
      return kind === 'array' ? ['should not be sent'] : (function* () { yield 'should not be sent'; })();
    };
    const served = await serve(app);
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /') + head('GET /after'));
    const res = await conn.readResponse();
    expect(res.status).toBe(Number(status.slice(0, 3)));
    expect(res.header('transfer-encoding')).toBeUndefined();
    if (res.status === 204) expect(res.header('content-length')).toBeUndefined(); // RFC 9110 §8.6
    const next = await conn.readResponse();
    expect(next.statusLine).toBe('HTTP/1.1 200 OK');
    expect(next.text()).toBe('after');
    expect(conn.received.toString('latin1')).not.toContain('should not be sent');
  });
});

describe('headers the server adds', () => {
  it('Date is always present, in IMF-fixdate form', async () => {
    const { res } = await exchange(helloApp, head('GET /'));
    expect(res.header('date')).toMatch(DATE_RE);
    const generated = await exchange(generatorApp(['x']), head('GET /'));
    expect(generated.res.header('date')).toMatch(DATE_RE);
  });
});

describe('Connection and keep-alive', () => {
  it('two HTTP/1.1 requests on one socket, both answered, no Connection: close (eventlet test_002)', async () => {
    const served = await serve(pathApp);
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /one'));
    const a = await conn.readResponse();
    expect(a.text()).toBe('/one');
    expect(a.header('connection')?.toLowerCase()).not.toBe('close');
    await conn.write(head('GET /two'));
    const b = await conn.readResponse();
    expect(b.text()).toBe('/two');
    expect(conn.closed).toBe(false);
  });

  it('Connection: close from the client: the response says Connection: close and the socket closes (eventlet test_004)', async () => {
    const served = await serve(helloApp);
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    expect((await conn.readResponse()).status).toBe(200);
    await conn.write(head('GET /', ['Host: localhost', 'Connection: close']));
    const res = await conn.readResponse();
    expect(res.header('connection')?.toLowerCase()).toBe('close');
    expect(await conn.waitClosed()).toBe(true);
  });

  it("an app's own Connection: close closes the connection after the response (SPEC §12)", async () => {
    const served = await serve((_env: Environ, sr: StartResponse) => {
      sr('200 OK', [['Connection', 'close']]);
      return ['bye'];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    const res = await conn.readResponse();
    expect(res.text()).toBe('bye');
    expect(res.header('connection')?.toLowerCase()).toBe('close');
    expect(await conn.waitClosed()).toBe(true);
  });

  it('HTTP/1.0 + Connection: keep-alive echoes keep-alive and stays open (eventlet test_018)', async () => {
    const served = await serve(helloApp);
    const conn = await RawConnection.open(served.port);
    for (let i = 0; i < 2; i++) {
      await conn.write(head('GET /', ['Host: localhost', 'Connection: keep-alive'], 'HTTP/1.0'));
      const res = await conn.readResponse();
      expect(res.text()).toBe('hello world');
      expect(res.header('connection')?.toLowerCase()).toBe('keep-alive');
    }
    expect(conn.closed).toBe(false);
  });

  it('HTTP/1.0 without keep-alive: Connection: close and the socket closes', async () => {
    const { res, conn } = await exchange(helloApp, head('GET /', ['Host: localhost'], 'HTTP/1.0'));
    expect(res.text()).toBe('hello world');
    expect(res.header('connection')?.toLowerCase()).toBe('close');
    expect(await conn.waitClosed()).toBe(true);
  });

  it('Connection is a token list: "close, foo" closes (SPEC §12: eventlet keeps it open)', async () => {
    const { res, conn } = await exchange(helloApp, head('GET /', ['Host: localhost', 'Connection: close, foo']));
    expect(res.text()).toBe('hello world');
    expect(await conn.waitClosed()).toBe(true);
  });

  it('Connection tokens are case-insensitive: "Foo, CLOSE" closes', async () => {
    const { conn } = await exchange(helloApp, head('GET /', ['Host: localhost', 'Connection: Foo, CLOSE']));
    expect(await conn.waitClosed()).toBe(true);
  });

  it('HTTP/1.0 with "TE, Keep-Alive" stays open (SPEC §12: eventlet closes)', async () => {
    const served = await serve(helloApp);
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /', ['Host: localhost', 'Connection: TE, Keep-Alive'], 'HTTP/1.0'));
    expect((await conn.readResponse()).text()).toBe('hello world');
    await conn.write(head('GET /', ['Host: localhost', 'Connection: keep-alive'], 'HTTP/1.0'));
    expect((await conn.readResponse()).text()).toBe('hello world');
  });

  it('keepalive: false: every response closes, even for HTTP/1.0 keep-alive (eventlet test_026)', async () => {
    const one = await exchange(helloApp, head('GET /'), { keepalive: false });
    expect(one.res.header('connection')?.toLowerCase()).toBe('close');
    expect(await one.conn.waitClosed()).toBe(true);
    const two = await exchange(
      helloApp,
      head('GET /', ['Host: localhost', 'Connection: keep-alive'], 'HTTP/1.0'),
      { keepalive: false },
    );
    expect(two.res.header('connection')?.toLowerCase()).toBe('close');
    expect(await two.conn.waitClosed()).toBe(true);
  });

  it('three pipelined requests in one write are answered in order', async () => {
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      const path = String(env['PATH_INFO']);
      if (path === '/1') await sleep(100); // the first is the slowest: order must still hold
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return [path];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /1') + head('GET /2') + head('GET /3', ['Host: localhost', 'Connection: close']));
    const bodies = [];
    for (let i = 0; i < 3; i++) bodies.push((await conn.readResponse()).text());
    expect(bodies).toEqual(['/1', '/2', '/3']);
    expect(await conn.waitClosed()).toBe(true);
  });

  it('keep-alive GET /, GET /notexist, GET / answer consistently (eventlet test_008)', async () => {
    const served = await serve((env: Environ, sr: StartResponse) => {
      if (env['PATH_INFO'] === '/notexist') {
        sr('404 Not Found', []);
        return ['not found'];
      }
      sr('200 OK', []);
      return ['hello world'];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    const first = await conn.readResponse();
    await conn.write(head('GET /notexist'));
    expect((await conn.readResponse()).status).toBe(404);
    await conn.write(head('GET /'));
    const third = await conn.readResponse();
    expect(third.statusLine).toBe(first.statusLine);
    expect(third.text()).toBe('hello world');
  });
});

describe('capitalizeResponseHeaders', () => {
  it('on (default): sOMe-WEirD → Some-Weird; the status is sent verbatim (eventlet test_header_name_capitalization)', async () => {
    const { res } = await exchange((_env: Environ, sr: StartResponse) => {
      sr('200 oK', [['sOMe-WEirD', 'cAsE'], ['content-TYPE', 'text/plain']]);
      return ['x'];
    }, head('GET /'));
    expect(res.statusLine).toBe('HTTP/1.1 200 oK');
    const names = res.headers.map(([n]) => n);
    expect(names).toContain('Some-Weird');
    expect(names).toContain('Content-Type');
    expect(names).not.toContain('sOMe-WEirD');
    expect(res.header('some-weird')).toBe('cAsE');
  });

  it('off: names verbatim (eventlet test_disable_header_name_capitalization)', async () => {
    const { res } = await exchange(
      (_env: Environ, sr: StartResponse) => {
        sr('200 OK', [['eTAg', 'TAg-VAluE'], ['sOMe-WEirD', 'x']]);
        return ['x'];
      },
      head('GET /'),
      { capitalizeResponseHeaders: false },
    );
    expect(res.rawHead.toString('latin1')).toContain('\r\neTAg: TAg-VAluE\r\n');
    expect(res.rawHead.toString('latin1')).toContain('\r\nsOMe-WEirD: x\r\n');
  });
});

describe('minimumChunkSize buffering', () => {
  const small = generatorApp(['a', 'b', 'c']);

  it('default 4096: small yields are buffered into one chunk', async () => {
    const { res } = await exchange(small, head('GET /'));
    expect(res.rawBody.toString('latin1')).toBe('3\r\nabc\r\n0\r\n\r\n');
  });

  it('default 4096: a chunk is written once 4096 bytes are buffered (3000 + 3000, then 3000)', async () => {
    const piece = 'p'.repeat(3000);
    const { res } = await exchange(generatorApp([piece, piece, piece]), head('GET /'));
    expect(res.chunks.map((c) => c.length)).toEqual([6000, 3000]);
  });

  it.each([0, 1])('minimumChunkSize: %i writes each yield as its own chunk', async (size) => {
    const { res } = await exchange(small, head('GET /'), { minimumChunkSize: size });
    expect(res.rawBody.toString('latin1')).toBe('1\r\na\r\n1\r\nb\r\n1\r\nc\r\n0\r\n\r\n');
  });

  it("env['eventlet.minimum_write_chunk_size'] overrides the option per request", async () => {
    const app = (env: Environ, sr: StartResponse) => {
      envSet(env, 'eventlet.minimum_write_chunk_size', 2);
      sr('200 OK', []);
      return (function* () {
        yield 'a';
        yield 'b';
        yield 'c';
      })();
    };
    const { res } = await exchange(app, head('GET /'));
    expect(res.rawBody.toString('latin1')).toBe('2\r\nab\r\n1\r\nc\r\n0\r\n\r\n');
  });

  it('a large minimumChunkSize buffers everything into one chunk', async () => {
    const { res } = await exchange(small, head('GET /'), { minimumChunkSize: 1 << 20 });
    expect(res.chunks.length).toBe(1);
  });
});

describe("maxHttpVersion: 'HTTP/1.0'", () => {
  it('status line says HTTP/1.0, never chunked, the connection closes (SPEC §12: eventlet still chunks)', async () => {
    const { res, conn } = await exchange(generatorApp(['x', 'y']), head('GET /'), { maxHttpVersion: 'HTTP/1.0' });
    expect(res.statusLine).toBe('HTTP/1.0 200 OK');
    expect(res.header('transfer-encoding')).toBeUndefined();
    expect(res.header('connection')?.toLowerCase()).toBe('close');
    expect(res.text()).toBe('xy');
    expect(await conn.waitClosed()).toBe(true);
  });

  it('array bodies too: Connection: close and the socket closes', async () => {
    const { res, conn } = await exchange(helloApp, head('GET /'), { maxHttpVersion: 'HTTP/1.0' });
    expect(res.statusLine).toBe('HTTP/1.0 200 OK');
    expect(res.header('connection')?.toLowerCase()).toBe('close');
    expect(res.text()).toBe('hello world');
    expect(await conn.waitClosed()).toBe(true);
  });
});

describe('the body must match an app Content-Length (SPEC §12)', () => {
  it('a short body closes the connection', async () => {
    const served = await serve((_env: Environ, sr: StartResponse) => {
      sr('200 OK', [['Content-Length', '10']]);
      return ['short'];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    const res = await conn.readResponse({ timeoutMs: 5000 });
    expect(res.complete).toBe(false);
    expect(res.text()).toBe('short');
    expect(conn.closed).toBe(true);
  });

  it('a short generator body closes the connection', async () => {
    const served = await serve(generatorApp(['sho', 'rt'], '200 OK', [['Content-Length', '10']]));
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    const res = await conn.readResponse({ timeoutMs: 5000 });
    expect(res.complete).toBe(false);
    expect(res.text()).toBe('short');
    expect(conn.closed).toBe(true);
  });

  it('extra bytes beyond the Content-Length are not sent', async () => {
    const served = await serve((_env: Environ, sr: StartResponse) => {
      sr('200 OK', [['Content-Length', '3']]);
      return ['abc', 'def'];
    });
    const { data } = await rawExchange(served.port, head('GET /', ['Host: localhost', 'Connection: close']));
    const text = data.toString('latin1');
    const bodyStart = text.indexOf('\r\n\r\n') + 4;
    expect(text.slice(bodyStart)).toBe('abc');
  });

  it('extra bytes on a keep-alive connection do not corrupt the next response', async () => {
    const served = await serve((env: Environ, sr: StartResponse) => {
      sr('200 OK', [['Content-Length', '3']]);
      return env['PATH_INFO'] === '/extra' ? ['abcdef'] : ['xyz'];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /extra'));
    const first = await conn.readResponse();
    expect(first.text()).toBe('abc');
    await conn.write(head('GET /next'));
    // either the server closed the connection, or the next response is clean
    const after = await Promise.race([
      conn.readResponse().then((r) => r.statusLine + '|' + r.text()),
      conn.waitClosed(3000).then((closed) => (closed ? 'closed' : 'open, but no response')),
    ]).catch(() => 'closed');
    if (after !== 'closed') expect(after).toBe('HTTP/1.1 200 OK|xyz');
    expect(conn.received.toString('latin1')).not.toContain('def');
  });
});

describe('malformed requests', () => {
  it('GARBAGE gets 400 and close; the server still answers the next client', async () => {
    const served = await serve(helloApp);
    const { data, closed } = await rawExchange(served.port, 'GARBAGE\r\n\r\n');
    expect(data.toString('latin1')).toMatch(/^HTTP\/1\.[01] 400 /);
    expect(closed).toBe(true);
    const res = await fetch(`http://127.0.0.1:${served.port}/`);
    expect(await res.text()).toBe('hello world');
  });

  it('a malformed request after a good one on the same connection: 200, then 400 and close', async () => {
    const served = await serve(helloApp);
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /') + 'NOT HTTP AT ALL\r\n\r\n');
    expect((await conn.readResponse()).status).toBe(200);
    expect((await conn.readResponse()).status).toBe(400);
    expect(await conn.waitClosed()).toBe(true);
  });
});
