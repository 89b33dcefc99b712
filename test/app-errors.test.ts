// SPEC §9 (app failures): 500 with the stack when debug, generic otherwise, logged;
// after the head was sent the connection is just closed; the server keeps serving.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Environ, StartResponse } from '../ts/index.js';
import { cleanup, serve, type App, type Served, type ServerOptions } from './helpers/serve.js';
import { RawConnection } from './helpers/raw-client.js';
import { head, sleep } from './helpers/util.js';

afterEach(cleanup);

function crasher(): never {
  throw new Error('intentional crash');
}

/** Route /ok answers 200; every other path runs `app`. */
function withOkRoute(app: App): App {
  return ((env: Environ, sr: StartResponse) => {
    if (env['PATH_INFO'] === '/ok') {
      sr('200 OK', []);
      return ['still serving'];
    }
    return (app as (env: Environ, sr: StartResponse) => unknown)(env, sr);
  }) as App;
}

async function request(served: Served, path = '/', extra: string[] = []) {
  const conn = await RawConnection.open(served.port);
  await conn.write(head(`GET ${path}`, ['Host: localhost', ...extra]));
  const res = await conn.readResponse();
  const closed = await conn.waitClosed(3000);
  return { res, closed, conn };
}

async function expectStillServing(served: Served) {
  const res = await fetch(`http://127.0.0.1:${served.port}/ok`);
  expect(res.status).toBe(200);
  expect(await res.text()).toBe('still serving');
}

async function serveCrash(app: App, options: ServerOptions = {}) {
  return serve(withOkRoute(app), options);
}

describe('the app throws before anything was sent', () => {
  it('sync throw: 500 with Connection: close, no Transfer-Encoding, the stack in the body (debug default)', async () => {
    const served = await serveCrash(() => crasher());
    const { res, closed } = await request(served);
    expect(res.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(res.header('connection')?.toLowerCase()).toBe('close');
    expect(res.header('transfer-encoding')).toBeUndefined();
    expect(res.header('content-length')).toBe(String(res.body.length));
    const body = res.text();
    expect(body).toContain('intentional crash');
    expect(body).toContain('Error');
    expect(body).toMatch(/\n\s+at /); // a stack frame
    expect(closed).toBe(true);
    await expectStillServing(served);
  });

  it('async rejection: 500 with the stack', async () => {
    const served = await serveCrash(async () => {
      await sleep(5);
      throw new TypeError('async intentional crash');
    });
    const { res, closed } = await request(served);
    expect(res.status).toBe(500);
    expect(res.text()).toContain('async intentional crash');
    expect(res.text()).toContain('TypeError');
    expect(closed).toBe(true);
    await expectStillServing(served);
  });

  it('debug: false → 500 with a generic body: no message, no stack (eventlet test_debug)', async () => {
    const served = await serveCrash(() => crasher(), { debug: false });
    const { res, closed } = await request(served);
    expect(res.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(res.header('connection')?.toLowerCase()).toBe('close');
    expect(res.header('transfer-encoding')).toBeUndefined();
    const body = res.text();
    expect(body).not.toContain('intentional crash');
    expect(body).not.toMatch(/\n\s+at /);
    expect(body).not.toContain('crasher');
    expect(closed).toBe(true);
    await expectStillServing(served);
  });

  it('the error and its stack are logged (debug on and off)', async () => {
    for (const debug of [true, false]) {
      const served = await serveCrash(() => crasher(), { debug });
      await request(served);
      await vi.waitFor(() => {
        expect(served.logText()).toContain('intentional crash');
        expect(served.logText()).toMatch(/\n\s+at /);
      });
      await served.close();
    }
  });

  it('a throw from the body before the first chunk (startResponse already called) → 500', async () => {
    const served = await serveCrash((_env: Environ, sr: StartResponse) => {
      sr('200 OK', [['X-Never', 'sent']]);
      return (function* () {
        yield crasher();
      })();
    });
    const { res, closed } = await request(served);
    expect(res.status).toBe(500);
    expect(res.header('x-never')).toBeUndefined();
    expect(closed).toBe(true);
    await expectStillServing(served);
  });

  it('a throw while the first yield is still buffered → clean 500 with Content-Length (eventlet test_timeouts_in_app_call)', async () => {
    const served = await serveCrash((_env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return (function* () {
        yield 'partial ';
        crasher();
      })();
    });
    const { res, closed } = await request(served);
    expect(res.status).toBe(500);
    expect(res.header('content-length')).toBeDefined();
    expect(res.header('transfer-encoding')).toBeUndefined();
    expect(res.text()).not.toContain('partial');
    expect(closed).toBe(true);
  });

  it('the access log records the 500', async () => {
    const served = await serveCrash(() => crasher());
    await request(served, '/boom');
    await vi.waitFor(() =>
      expect(served.logLines().some((l) => /"GET \/boom HTTP\/1\.1" 500 \d+ /.test(l))).toBe(true),
    );
  });
});

describe('the app fails after the head was sent', () => {
  const line1 = 'The dwarves of yore made mighty spells,';
  const line2 = 'While hammers fell like ringing bells';

  it('startResponse(excInfo) after two chunks: body without terminator, then EOF (eventlet test_error_in_chunked_closes_connection)', async () => {
    const served = await serveCrash(
      (_env: Environ, sr: StartResponse) => {
        sr('200 OK', [['Content-Type', 'text/plain']]);
        return (function* () {
          yield line1;
          yield line2;
          try {
            throw new Error('intentional error');
          } catch (err) {
            sr('500 Error', [['Content-Type', 'text/plain']], err);
          }
        })();
      },
      { minimumChunkSize: 1 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    const res = await conn.readResponse();
    expect(res.statusLine).toBe('HTTP/1.1 200 OK');
    expect(res.header('transfer-encoding')).toBe('chunked');
    expect(res.complete).toBe(false);
    expect(res.rawBody.toString('latin1')).toBe(`27\r\n${line1}\r\n25\r\n${line2}\r\n`);
    expect(conn.closed).toBe(true);
    await expectStillServing(served);
  });

  it('a plain throw after chunks were sent: no terminator, connection closed', async () => {
    const served = await serveCrash(
      (_env: Environ, sr: StartResponse) => {
        sr('200 OK', []);
        return (async function* () {
          yield 'sent';
          await sleep(20);
          crasher();
        })();
      },
      { minimumChunkSize: 0 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    const res = await conn.readResponse();
    expect(res.status).toBe(200);
    expect(res.complete).toBe(false);
    expect(res.rawBody.toString('latin1')).toBe('4\r\nsent\r\n');
    expect(conn.closed).toBe(true);
    expect(conn.received.toString('latin1')).not.toContain('500');
    await expectStillServing(served);
  });

  it('a throw after part of a Content-Length body: short body, then EOF (eventlet test_timeouts_in_app_iter)', async () => {
    const served = await serveCrash(
      (_env: Environ, sr: StartResponse) => {
        sr('200 OK', [['Content-Length', '13']]);
        return (async function* () {
          yield 'partial ';
          await sleep(20);
          crasher();
        })();
      },
      { minimumChunkSize: 1 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    const res = await conn.readResponse();
    expect(res.status).toBe(200);
    expect(res.header('content-length')).toBe('13');
    expect(res.complete).toBe(false);
    expect(res.text()).toBe('partial ');
    expect(conn.closed).toBe(true);
    await expectStillServing(served);
  });

  it('the error is logged once the head was sent too', async () => {
    const served = await serveCrash(
      (_env: Environ, sr: StartResponse) => {
        sr('200 OK', []);
        return (async function* () {
          yield 'sent';
          await sleep(20);
          throw new Error('late intentional crash');
        })();
      },
      { minimumChunkSize: 0 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    await conn.readResponse();
    await vi.waitFor(() => expect(served.logText()).toContain('late intentional crash'));
  });
});

describe('the server keeps serving', () => {
  it('many failing requests in a row, on keep-alive and fresh connections, then a good one', async () => {
    const served = await serveCrash(() => crasher());
    for (let i = 0; i < 5; i++) {
      const { res } = await request(served);
      expect(res.status).toBe(500);
    }
    await expectStillServing(served);
  });

  it('a failing request does not disturb a concurrent good one', async () => {
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      if (env['PATH_INFO'] === '/slow') {
        await sleep(200);
        sr('200 OK', []);
        return ['slow ok'];
      }
      crasher();
    });
    const slow = fetch(`http://127.0.0.1:${served.port}/slow`).then((r) => r.text());
    await sleep(20);
    const failing = await fetch(`http://127.0.0.1:${served.port}/fail`);
    expect(failing.status).toBe(500);
    expect(await slow).toBe('slow ok');
  });
});
