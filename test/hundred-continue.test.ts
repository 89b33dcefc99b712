// SPEC §7 (issue 3): Expect: 100-continue, interim-response headers, several interim responses.
import { afterEach, describe, expect, it } from 'vitest';
import type { Environ, StartResponse } from '../ts/index.js';
import { cleanup, serve, type App } from './helpers/serve.js';
import { RawConnection } from './helpers/raw-client.js';
import { envGet, inputOf } from './helpers/apps.js';
import { curl, deferred } from './helpers/util.js';

afterEach(cleanup);

const latin1 = (b: Buffer) => b.toString('latin1');

function expectHead(path: string, framing: string, extra: string[] = [], version = 'HTTP/1.1', expectValue = '100-continue') {
  return `PUT ${path} ${version}\r\nHost: localhost\r\n${extra.map((h) => h + '\r\n').join('')}${framing}\r\nExpect: ${expectValue}\r\n\r\n`;
}

/** Echoes the body read with read(); 417 without reading when Content-Length > 1024 (eventlet test_024). */
const echoOr417: App = async (env: Environ, sr: StartResponse) => {
  if (Number(envGet(env, 'CONTENT_LENGTH')) > 1024) {
    sr('417 Expectation Failed', [['Content-Length', '7']]);
    return ['failure'];
  }
  const text = await inputOf(env).read();
  sr('200 OK', [['Content-Length', String(text.length)]]);
  return [text];
};

describe('the interim 100 Continue is sent when the app first reads', () => {
  it('nothing before the app reads; then exactly HTTP/1.1 100 Continue; then the final response', async () => {
    const called = deferred();
    const release = deferred();
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      called.resolve();
      await release.promise;
      const text = await inputOf(env).read();
      sr('200 OK', [['Content-Length', String(text.length)]]);
      return [text];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(expectHead('/', 'Content-Length: 5'));
    await called.promise;
    expect((await conn.unreadAfter(200)).length).toBe(0);
    release.resolve();
    const interim = await conn.readResponse();
    expect(latin1(interim.rawHead)).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    await conn.write('hello');
    const final = await conn.readResponse();
    expect(final.statusLine).toBe('HTTP/1.1 200 OK');
    expect(final.text()).toBe('hello');
    expect(final.header('connection')?.toLowerCase()).not.toBe('close');
  });

  it('the Expect value is case-insensitive; two pipelined PUTs each get 100 then 200 (eventlet test_024)', async () => {
    const served = await serve(echoOr417);
    const conn = await RawConnection.open(served.port);
    await conn.write(
      expectHead('/', 'Content-Length: 7') + 'testing' + expectHead('/', 'Content-Length: 7', [], 'HTTP/1.1', '100-Continue') + 'testing',
    );
    for (let i = 0; i < 2; i++) {
      const interim = await conn.readResponse();
      expect(interim.statusLine).toBe('HTTP/1.1 100 Continue');
      const final = await conn.readResponse();
      expect(final.statusLine).toBe('HTTP/1.1 200 OK');
      expect(final.text()).toBe('testing');
      expect(final.header('connection')?.toLowerCase()).not.toBe('close');
    }
  });

  it('never when the app answers without reading: no 100, Connection: close, the socket closes (eventlet test_024)', async () => {
    const served = await serve(echoOr417);
    const conn = await RawConnection.open(served.port);
    await conn.write(expectHead('/', 'Content-length: 1025'));
    const res = await conn.readResponse();
    expect(res.statusLine).toBe('HTTP/1.1 417 Expectation Failed');
    expect(res.text()).toBe('failure');
    expect(res.header('connection')?.toLowerCase()).toBe('close');
    expect(await conn.waitClosed()).toBe(true);
    expect(latin1(conn.received)).not.toContain('100 Continue');
  });

  it('never when a generator app answers without reading: Connection: close too', async () => {
    const served = await serve((_env: Environ, sr: StartResponse) => {
      sr('413 Content Too Large', []);
      return (function* () {
        yield 'too big';
      })();
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(expectHead('/', 'Content-Length: 5000'));
    const res = await conn.readResponse();
    expect(res.status).toBe(413);
    expect(res.text()).toBe('too big');
    expect(res.header('connection')?.toLowerCase()).toBe('close');
    expect(await conn.waitClosed()).toBe(true);
    expect(latin1(conn.received)).not.toContain('100 Continue');
  });

  it('never after the response has started (eventlet test_024d, eager app)', async () => {
    const served = await serve(
      (env: Environ, sr: StartResponse) => {
        sr('202 Accepted', []);
        return (async function* () {
          yield ' ';
          const body = await inputOf(env).read();
          yield body;
        })();
      },
      { minimumChunkSize: 0 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(expectHead('/', 'Content-Length: 5', ['Connection: close']));
    const headBytes = await conn.readUntil('\r\n\r\n');
    expect(latin1(headBytes)).toMatch(/^HTTP\/1\.1 202 Accepted\r\n/);
    expect(latin1(await conn.readUntil('\r\n \r\n'))).toBe('1\r\n \r\n');
    await conn.write('hello');
    expect(latin1(await conn.readUntil('0\r\n\r\n'))).toBe('5\r\nhello\r\n0\r\n\r\n');
    expect(latin1(conn.received)).not.toContain('100 Continue');
  });

  it('a send after the response has started writes nothing, and a chunked body is not re-armed: the next read ends at once', async () => {
    const served = await serve(
      async (env: Environ, sr: StartResponse) => {
        const input = inputOf(env);
        const first = await input.read();
        sr('200 OK', []);
        return (async function* () {
          yield `first=${first.toString('latin1')}`;
          input.sendHundredContinueResponse();
          yield `second=${(await input.read()).length}`;
        })();
      },
      { minimumChunkSize: 0 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(expectHead('/', 'Transfer-Encoding: chunked', ['Connection: close']));
    expect((await conn.readResponse()).status).toBe(100);
    await conn.write('5\r\nhello\r\n0\r\n\r\n');
    const res = await conn.readResponse({ timeoutMs: 3000 });
    expect(res.status).toBe(200);
    expect(res.text()).toBe('first=hellosecond=0');
    expect(latin1(conn.received).match(/100 Continue/g)).toHaveLength(1);
  });

  it('after 100 was sent, an unread rest of the body is discarded and the connection stays open', async () => {
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      const part = await inputOf(env).read(3);
      sr('200 OK', [['Content-Length', String(part.length)]]);
      return [part];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(expectHead('/1', 'Content-Length: 10'));
    expect((await conn.readResponse()).status).toBe(100);
    await conn.write('0123456789');
    const first = await conn.readResponse();
    expect(first.text()).toBe('012');
    expect(first.header('connection')?.toLowerCase()).not.toBe('close');
    await conn.write('PUT /2 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc');
    expect((await conn.readResponse()).text()).toBe('abc');
  });
});

describe('headers on the interim response', () => {
  it('setHundredContinueResponseHeaders() headers go on the 100, names capitalized (eventlet test_024a)', async () => {
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      const input = inputOf(env);
      input.setHundredContinueResponseHeaders([
        ['Hundred-Continue-Header-1', 'H1'],
        ['Hundred-Continue-Header-2', 'H2'],
        ['Hundred-Continue-Header-k', 'Hk'],
      ]);
      const text = await input.read();
      sr('200 OK', [['Content-Length', String(text.length)]]);
      return [text];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(expectHead('/', 'Content-length: 7') + 'testing');
    const interim = await conn.readResponse();
    expect(interim.statusLine).toBe('HTTP/1.1 100 Continue');
    expect(interim.headers).toEqual([
      ['Hundred-Continue-Header-1', 'H1'],
      ['Hundred-Continue-Header-2', 'H2'],
      ['Hundred-Continue-Header-K', 'Hk'],
    ]);
    const final = await conn.readResponse();
    expect(final.statusLine).toBe('HTTP/1.1 200 OK');
    expect(final.text()).toBe('testing');
  });

  it('bad interim header names or values are not sent (no response splitting)', async () => {
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      const input = inputOf(env);
      let threw = false;
      try {
        input.setHundredContinueResponseHeaders([['X-Bad', 'a\r\nInjected: yes']]);
        await input.read();
      } catch {
        threw = true;
      }
      sr('200 OK', [['Content-Length', '2']]);
      return [threw ? 'ok' : 'no'];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(expectHead('/', 'Content-Length: 2', ['Connection: close']) + 'hi');
    await conn.waitClosed(3000);
    expect(latin1(conn.received)).not.toContain('Injected: yes');
  });
});

describe('several interim responses (sendHundredContinueResponse)', () => {
  function multipleChunkedApp(snake: boolean): App {
    return async (env: Environ, sr: StartResponse) => {
      const input = inputOf(env);
      const setHeaders = (h: Array<[string, string]>) =>
        snake ? input.set_hundred_continue_response_headers(h) : input.setHundredContinueResponseHeaders(h);
      setHeaders([
        ['Hundred-Continue-Header-1', 'H1'],
        ['Hundred-Continue-Header-2', 'H2'],
      ]);
      let text = await input.read();
      setHeaders([['Hundred-Continue-Header-3', 'H3']]);
      if (snake) input.send_hundred_continue_response();
      else input.sendHundredContinueResponse();
      text = Buffer.concat([text, await input.read()]);
      sr('200 OK', [['Content-Length', String(text.length)]]);
      return [text];
    };
  }

  async function runMultipleChunked(snake: boolean) {
    const served = await serve(multipleChunkedApp(snake));
    const conn = await RawConnection.open(served.port);
    await conn.write(expectHead('/a', 'Transfer-Encoding: chunked', ['Connection: close']));

    const first = await conn.readResponse();
    expect(first.statusLine).toBe('HTTP/1.1 100 Continue');
    expect(first.header('Hundred-Continue-Header-1')).toBe('H1');
    expect(first.header('Hundred-Continue-Header-2')).toBe('H2');

    await conn.write('5\r\nfirst\r\n8\r\n message\r\n0\r\n\r\n');
    const second = await conn.readResponse();
    expect(second.statusLine).toBe('HTTP/1.1 100 Continue');
    expect(second.header('Hundred-Continue-Header-3')).toBe('H3');

    await conn.write('8\r\n, second\r\n8\r\n message\r\n0\r\n\r\n');
    const final = await conn.readResponse();
    expect(final.statusLine).toBe('HTTP/1.1 200 OK');
    expect(final.header('content-length')).toBe('29');
    expect(final.text()).toBe('first message, second message');
  }

  it('chunked: the second read takes a second chunk sequence (eventlet test_024b)', async () => {
    await runMultipleChunked(false);
  });

  it('chunked, with the snake_case aliases', async () => {
    await runMultipleChunked(true);
  });

  it('Content-Length: read(13), another 100, read(16) (eventlet test_024c)', async () => {
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      const input = inputOf(env);
      input.setHundredContinueResponseHeaders([
        ['Hundred-Continue-Header-1', 'H1'],
        ['Hundred-Continue-Header-2', 'H2'],
      ]);
      let text = await input.read(13);
      input.setHundredContinueResponseHeaders([['Hundred-Continue-Header-3', 'H3']]);
      input.sendHundredContinueResponse();
      text = Buffer.concat([text, await input.read(16)]);
      sr('200 OK', [['Content-Length', String(text.length)]]);
      return [text];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(expectHead('/a', 'Content-Length: 29', ['Connection: close']));

    const first = await conn.readResponse();
    expect(first.statusLine).toBe('HTTP/1.1 100 Continue');
    expect(first.header('Hundred-Continue-Header-1')).toBe('H1');
    expect(first.header('Hundred-Continue-Header-2')).toBe('H2');

    await conn.write('first message');
    const second = await conn.readResponse();
    expect(second.statusLine).toBe('HTTP/1.1 100 Continue');
    expect(second.header('Hundred-Continue-Header-3')).toBe('H3');

    await conn.write(', second message\r\n');
    const final = await conn.readResponse();
    expect(final.statusLine).toBe('HTTP/1.1 200 OK');
    expect(final.text()).toBe('first message, second message');
  });

  it('three interim responses before the final one, each written at once', async () => {
    const sentSecond = deferred();
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      const input = inputOf(env);
      input.setHundredContinueResponseHeaders([['Progress', '1']]);
      const a = await input.read(1);
      input.setHundredContinueResponseHeaders([['Progress', '2']]);
      input.sendHundredContinueResponse();
      await sentSecond.promise;
      input.setHundredContinueResponseHeaders([['Progress', '3']]);
      input.sendHundredContinueResponse();
      const rest = await input.read();
      const text = Buffer.concat([a, rest]);
      sr('200 OK', [['Content-Length', String(text.length)]]);
      return [text];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(expectHead('/p', 'Content-Length: 3', ['Connection: close']));
    expect((await conn.readResponse()).header('progress')).toBe('1');
    await conn.write('abc');
    // the second one arrives while the app is still waiting: it was written at once
    expect((await conn.readResponse()).header('progress')).toBe('2');
    sentSecond.resolve();
    const third = await conn.readResponse();
    expect(third.status).toBe(100);
    expect(third.header('progress')).toBe('3');
    const final = await conn.readResponse();
    expect(final.status).toBe(200);
    expect(final.text()).toBe('abc');
  });
});

describe('HTTP/1.0', () => {
  it('Expect on an HTTP/1.0 request never produces an interim response (SPEC §12: eventlet sends one)', async () => {
    const reading = deferred();
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      reading.resolve();
      const text = await inputOf(env).read();
      sr('200 OK', [['Content-Length', String(text.length)]]);
      return [text];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(expectHead('/', 'Content-Length: 5', [], 'HTTP/1.0'));
    await reading.promise;
    expect((await conn.unreadAfter(300)).length).toBe(0);
    await conn.write('hello');
    const res = await conn.readResponse();
    expect(res.status).toBe(200);
    expect(res.text()).toBe('hello');
    expect(latin1(conn.received)).not.toContain('100 Continue');
  });
});

describe('a real client', () => {
  it("curl -H 'Expect: 100-continue' --data-binary gets the interim headers and the echo", async () => {
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      const input = inputOf(env);
      input.setHundredContinueResponseHeaders([
        ['Hundred-Continue-Header-1', 'H1'],
        ['Hundred-Continue-Header-k', 'Hk'],
      ]);
      const text = await input.read();
      sr('200 OK', [['Content-Length', String(text.length)]]);
      return [text];
    });
    const payload = 'payload sent by curl after 100 Continue';
    const { code, stdout, stderr } = await curl([
      '-v',
      '-H',
      'Expect: 100-continue',
      '--expect100-timeout',
      '5',
      '--data-binary',
      payload,
      `http://127.0.0.1:${served.port}/echo`,
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout.toString()).toBe(payload);
    expect(stderr).toMatch(/< HTTP\/1\.1 100 Continue/);
    expect(stderr).toMatch(/< Hundred-Continue-Header-1: H1/);
    expect(stderr).toMatch(/< Hundred-Continue-Header-K: Hk/);
  });
});
