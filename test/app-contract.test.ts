// SPEC §5: the application contract (bodies, close(), startResponse, write, excInfo, validation).
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Environ, StartResponse } from '../ts/index.js';
import { cleanup, serve, type App, type ServerOptions } from './helpers/serve.js';
import { RawConnection } from './helpers/raw-client.js';
import type { ParsedResponse } from './helpers/http-parse.js';
import { deferred, head, sleep } from './helpers/util.js';

afterEach(cleanup);

/** One GET with Connection: close over a raw socket; returns the parsed response and all bytes. */
async function get(app: App, options: ServerOptions = {}, path = '/') {
  const served = await serve(app, options);
  const conn = await RawConnection.open(served.port);
  await conn.write(head(`GET ${path}`, ['Host: localhost', 'Connection: close']));
  const res = await conn.readResponse();
  await conn.waitClosed(3000);
  return { res, raw: conn.received.toString('latin1'), served };
}

describe('sync and async apps', () => {
  it('a sync app returning an array', async () => {
    const { res } = await get((_env: Environ, sr: StartResponse) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return ['sync ', 'array'];
    });
    expect(res.status).toBe(200);
    expect(res.text()).toBe('sync array');
  });

  it('an async app (returns a Promise of the body)', async () => {
    const { res } = await get(async (_env: Environ, sr: StartResponse) => {
      await sleep(10);
      sr('201 Created', [['Content-Type', 'text/plain']]);
      return ['async'];
    });
    expect(res.statusLine).toBe('HTTP/1.1 201 Created');
    expect(res.text()).toBe('async');
  });
});

describe('body kinds', () => {
  it('a custom Iterable', async () => {
    const body = {
      *[Symbol.iterator]() {
        yield 'it';
        yield 'er';
        yield 'able';
      },
    };
    const { res } = await get((_env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return body;
    });
    expect(res.text()).toBe('iterable');
  });

  it('a generator', async () => {
    const { res } = await get((_env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return (function* () {
        yield 'gen';
        yield 'erator';
      })();
    });
    expect(res.text()).toBe('generator');
  });

  it('an async generator', async () => {
    const { res } = await get((_env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return (async function* () {
        yield 'async ';
        await sleep(5);
        yield 'generator';
      })();
    });
    expect(res.text()).toBe('async generator');
  });

  it('a custom AsyncIterable', async () => {
    const parts = ['as', 'ync ', 'iter', 'able'];
    const body = {
      [Symbol.asyncIterator]() {
        let i = 0;
        return {
          next: async () =>
            i < parts.length ? { done: false as const, value: parts[i++]! } : { done: true as const, value: undefined },
        };
      },
    };
    const { res } = await get((_env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return body;
    });
    expect(res.text()).toBe('async iterable');
  });

  it('Uint8Array and Buffer chunks are sent as bytes', async () => {
    const { res } = await get((_env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return [new Uint8Array([0x00, 0xff, 0x41]), Buffer.from([0x0a])];
    });
    expect([...res.body]).toEqual([0x00, 0xff, 0x41, 0x0a]);
  });

  it('strings are UTF-8 encoded (SPEC §12: eventlet allows ASCII only)', async () => {
    const text = 'héllo €';
    const { res } = await get((_env: Environ, sr: StartResponse) => {
      sr('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
      return [text];
    });
    expect(res.body.equals(Buffer.from(text, 'utf8'))).toBe(true);
    expect(res.header('content-length')).toBe('10');
  });

  it('UTF-8 strings from a generator (chunked)', async () => {
    const { res } = await get((_env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return (function* () {
        yield 'héllo';
        yield ' €';
      })();
    });
    expect(res.body.equals(Buffer.from('héllo €', 'utf8'))).toBe(true);
  });

  it('an empty array body gives Content-Length: 0', async () => {
    const { res } = await get((_env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return [];
    });
    expect(res.status).toBe(200);
    expect(res.header('content-length')).toBe('0');
    expect(res.body.length).toBe(0);
  });
});

describe('close() on the body', () => {
  function closable(chunks: Array<string | Error>) {
    const state = { closes: 0 };
    const body = {
      [Symbol.iterator]() {
        let i = 0;
        return {
          next(): IteratorResult<string> {
            if (i >= chunks.length) return { done: true, value: undefined };
            const c = chunks[i++]!;
            if (c instanceof Error) throw c;
            return { done: false, value: c };
          },
        };
      },
      close() {
        state.closes++;
      },
    };
    return { body, state };
  }

  it('is called exactly once after a normal response', async () => {
    const { body, state } = closable(['a', 'b']);
    const { res } = await get((_env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return body;
    });
    expect(res.text()).toBe('ab');
    await vi.waitFor(() => expect(state.closes).toBe(1));
    await sleep(100);
    expect(state.closes).toBe(1);
  });

  it('is called exactly once when iterating the body throws', async () => {
    const { body, state } = closable(['a', new Error('body failed')]);
    const { res } = await get((_env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return body;
    });
    expect(res.status).toBe(500);
    await vi.waitFor(() => expect(state.closes).toBe(1));
    await sleep(100);
    expect(state.closes).toBe(1);
  });

  it('is called exactly once on an async iterable body too', async () => {
    let closes = 0;
    const body = {
      async *[Symbol.asyncIterator]() {
        yield 'x';
      },
      close() {
        closes++;
      },
    };
    const { res } = await get((_env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return body;
    });
    expect(res.text()).toBe('x');
    await vi.waitFor(() => expect(closes).toBe(1));
    await sleep(100);
    expect(closes).toBe(1);
  });

  it('is called exactly once when the client disconnects mid-stream, and the stream stops', async () => {
    let closes = 0;
    let produced = 0;
    const firstSent = deferred();
    const body = {
      async *[Symbol.asyncIterator]() {
        for (let i = 0; i < 200; i++) {
          produced++;
          if (i === 1) firstSent.resolve();
          yield `chunk ${i}\n`;
          await sleep(20);
        }
      },
      close() {
        closes++;
      },
    };
    const served = await serve(
      (_env: Environ, sr: StartResponse) => {
        sr('200 OK', []);
        return body;
      },
      { minimumChunkSize: 0 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /stream'));
    await conn.readUntil('chunk 0');
    await firstSent.promise;
    conn.destroy();
    await vi.waitFor(() => expect(closes).toBe(1), { timeout: 5000 });
    const producedAtClose = produced;
    await sleep(300);
    expect(closes).toBe(1);
    // the server stopped pulling from the body once the client was gone
    expect(produced).toBeLessThanOrEqual(producedAtClose + 1);
    expect(produced).toBeLessThan(200);
  });
});

describe('the write() callable', () => {
  it('write() sends bytes before the returned body (no Content-Length: chunked on HTTP/1.1)', async () => {
    const { res } = await get((_env: Environ, sr: StartResponse) => {
      const write = sr('200 OK', [['Content-Type', 'text/plain']]);
      write('hello ');
      write(Buffer.from('wide '));
      return ['world'];
    });
    expect(res.status).toBe(200);
    expect(res.text()).toBe('hello wide world');
    expect(res.header('transfer-encoding')).toBe('chunked');
  });

  it('write() with an app Content-Length and an empty body (eventlet test_015 /a)', async () => {
    const { res } = await get((_env: Environ, sr: StartResponse) => {
      const write = sr('200 OK', [['Content-Length', '5']]);
      write('hello');
      return [];
    });
    expect(res.header('content-length')).toBe('5');
    expect(res.header('transfer-encoding')).toBeUndefined();
    expect(res.text()).toBe('hello');
  });

  it('write() only, on a keep-alive connection: the chunked body is terminated', async () => {
    const served = await serve((_env: Environ, sr: StartResponse) => {
      const write = sr('200 OK', []);
      write('only write');
      return [];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /1'));
    const res = await conn.readResponse();
    expect(res.complete).toBe(true);
    expect(res.text()).toBe('only write');
    await conn.write(head('GET /2'));
    const res2 = await conn.readResponse();
    expect(res2.text()).toBe('only write');
  });
});

describe('startResponse timing', () => {
  it('may be called inside a generator app before the first chunk', async () => {
    function* app(_env: Environ, sr: StartResponse) {
      sr('202 Accepted', [['X-From-Generator', 'yes']]);
      yield 'late start';
    }
    const { res } = await get(app);
    expect(res.statusLine).toBe('HTTP/1.1 202 Accepted');
    expect(res.header('x-from-generator')).toBe('yes');
    expect(res.text()).toBe('late start');
  });

  it('may be called inside an async generator after empty chunks', async () => {
    async function* app(_env: Environ, sr: StartResponse) {
      yield '';
      await sleep(5);
      sr('203 Non-Authoritative Information', []);
      yield 'ok';
    }
    const { res } = await get(app);
    expect(res.status).toBe(203);
    expect(res.text()).toBe('ok');
  });
});

describe('startResponse validation: app errors (500), never sent (SPEC §5, §12)', () => {
  /** 500 + close; `forbidden` is not in the head (the debug body may quote the bad value). */
  function expect500(res: ParsedResponse, raw: string, forbidden: string) {
    expect(res.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(res.header('connection')?.toLowerCase()).toBe('close');
    expect(res.rawHead.toString('latin1')).not.toContain(forbidden);
    expect(raw).not.toContain('body-never-sent');
  }

  it.each(['200', 'OK', '2000 X', '20 OK', 'abc OK', ' 200 OK', '200OK'])('bad status %j', async (status) => {
    const { res, raw } = await get((_env: Environ, sr: StartResponse) => {
      sr(status, [['X-Marker', 'never-sent']]);
      return ['body-never-sent'];
    });
    expect500(res, raw, 'never-sent');
  });

  it('a status holding CR/LF is rejected (no response splitting)', async () => {
    const { res, raw } = await get((_env: Environ, sr: StartResponse) => {
      sr('200 OK\r\nInjected: yes', []);
      return ['x'];
    });
    expect500(res, raw, 'Injected');
    expect(res.header('injected')).toBeUndefined();
  });

  it.each([
    ['Bad Name', 'v'],
    ['a:b', 'v'],
    ['', 'v'],
    ['X-Bad\r\nInjected', 'v'],
    ['X-Bad\nInjected', 'v'],
    ['X-Nul\0', 'v'],
    ['X-Tab\t', 'v'],
  ])('bad header name %j', async (name, value) => {
    const { res, raw } = await get((_env: Environ, sr: StartResponse) => {
      sr('200 OK', [
        ['X-Marker', 'never-sent'],
        [name, value],
      ]);
      return ['body-never-sent'];
    });
    expect500(res, raw, 'never-sent');
  });

  it.each([
    ['a\r\nInjected: yes'],
    ['a\nInjected: yes'],
    ['a\rInjected: yes'],
    ['a\0b'],
  ])('header value with CR, LF or NUL %j', async (value) => {
    const { res, raw } = await get((_env: Environ, sr: StartResponse) => {
      sr('200 OK', [
        ['X-Marker', 'never-sent'],
        ['X-Value', value],
      ]);
      return ['body-never-sent'];
    });
    expect500(res, raw, 'never-sent');
    expect(res.rawHead.toString('latin1')).not.toContain('Injected');
    expect(res.header('injected')).toBeUndefined();
  });

  it('a second startResponse without excInfo is an error (SPEC §12: eventlet lets the last call win)', async () => {
    const { res, raw } = await get((_env: Environ, sr: StartResponse) => {
      sr('200 OK', [['X-First', 'never-sent']]);
      sr('202 Accepted', [['X-Second', 'never-sent-either']]);
      return ['body-never-sent'];
    });
    expect500(res, raw, 'never-sent');
  });

  it('an app that never calls startResponse gets a 500 (as eventlet)', async () => {
    const { res, raw } = await get(() => ['body-never-sent']);
    expect500(res, raw, 'body-never-sent');
  });
});

describe('excInfo', () => {
  it('before the head was sent: the second call replaces status and headers', async () => {
    const { res } = await get((_env: Environ, sr: StartResponse) => {
      sr('200 OK', [['X-First', '1']]);
      try {
        throw new Error('something failed');
      } catch (err) {
        sr('503 Service Unavailable', [['X-Second', '2']], err);
      }
      return ['sorry'];
    });
    expect(res.statusLine).toBe('HTTP/1.1 503 Service Unavailable');
    expect(res.header('x-second')).toBe('2');
    expect(res.header('x-first')).toBeUndefined();
    expect(res.text()).toBe('sorry');
  });

  it('after the head was sent: startResponse rethrows excInfo', async () => {
    const failure = new Error('late failure');
    let rethrown: unknown = 'nothing thrown';
    const served = await serve(
      (_env: Environ, sr: StartResponse) => {
        sr('200 OK', []);
        return (async function* () {
          yield 'sent';
          await sleep(50); // the first chunk is on the wire by now (minimumChunkSize 0)
          try {
            sr('500 Internal Server Error', [], failure);
          } catch (err) {
            rethrown = err;
          }
          yield ' done';
        })();
      },
      { minimumChunkSize: 0 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /', ['Host: localhost', 'Connection: close']));
    const res = await conn.readResponse();
    expect(res.status).toBe(200);
    expect(rethrown).toBe(failure);
  });
});

describe('an app that returns something that is not a body → 500', () => {
  it.each([
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['a plain object', { not: 'a body' }],
    ['a bigint', 12n],
    ['a function', () => ['x']],
  ])('%s', async (_label, value) => {
    const { res } = await get(((_env: Environ, sr: StartResponse) => {
      sr('200 OK', [['X-Marker', 'never-sent']]);
      return value;
    }) as unknown as App);
    expect(res.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(res.header('x-marker')).toBeUndefined();
  });

  it('an async app resolving to null', async () => {
    const { res } = await get((async (_env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return null;
    }) as unknown as App);
    expect(res.status).toBe(500);
  });

  it('a body yielding a non-chunk value (a number)', async () => {
    const { res } = await get(((_env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return [42];
    }) as unknown as App);
    expect(res.status).toBe(500);
  });
});
