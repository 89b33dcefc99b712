// SPEC §4 and §12: maxSize bounds requests in progress (the rest wait, none are dropped), and
// server.close({ timeout }) stops accepting, closes idle connections, lets requests in progress
// finish, and drops only what is still running when the timeout expires.
import { afterEach, describe, expect, it } from 'vitest';
import type { Environ, StartResponse } from '../ts/index.js';
import { cleanup, serve } from './helpers/serve.js';
import { RawConnection, connect } from './helpers/raw-client.js';
import { helloApp } from './helpers/apps.js';
import { deferred, head, sleep, until, within } from './helpers/util.js';

afterEach(cleanup);

/** An app that takes `ms` per request and records how many requests it holds at once. */
function slowCountingApp(ms: number) {
  const stats = { inApp: 0, mostAtOnce: 0, started: 0 };
  const app = async (env: Environ, startResponse: StartResponse) => {
    stats.started += 1;
    stats.inApp += 1;
    stats.mostAtOnce = Math.max(stats.mostAtOnce, stats.inApp);
    try {
      await sleep(ms);
    } finally {
      stats.inApp -= 1;
    }
    startResponse('200 OK', []);
    return [`done ${env.PATH_INFO}`];
  };
  return { app, stats };
}

describe('maxSize', () => {
  it('maxSize 2 with 5 concurrent slow requests: never more than 2 in the app, all 5 answered', async () => {
    const { app, stats } = slowCountingApp(300);
    const served = await serve(app, { maxSize: 2 });
    const started = Date.now();
    const responses = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        const conn = await RawConnection.open(served.port);
        await conn.write(head(`GET /${i}`));
        return conn.readResponse({ timeoutMs: 10000 });
      }),
    );
    expect(responses.map((r) => [r.status, r.text()])).toEqual(
      Array.from({ length: 5 }, (_, i) => [200, `done /${i}`]),
    );
    expect(stats.mostAtOnce).toBe(2);
    // Three rounds of at most two: the extra requests really waited.
    expect(Date.now() - started).toBeGreaterThanOrEqual(850);
  });

  it('many more requests than maxSize: none dropped, the bound holds throughout', async () => {
    const { app, stats } = slowCountingApp(20);
    const served = await serve(app, { maxSize: 3 });
    const responses = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const res = await fetch(`http://127.0.0.1:${served.port}/${i}`, { signal: AbortSignal.timeout(8000) });
        return [res.status, await res.text()];
      }),
    );
    expect(responses).toEqual(Array.from({ length: 60 }, (_, i) => [200, `done /${i}`]));
    expect(stats.started).toBe(60);
    expect(stats.mostAtOnce).toBeLessThanOrEqual(3);
    expect(stats.mostAtOnce).toBeGreaterThanOrEqual(2);
  });

  it('idle keep-alive connections do not count against maxSize', async () => {
    const served = await serve(helloApp, { maxSize: 1 });
    const idle: RawConnection[] = [];
    for (let i = 0; i < 3; i++) {
      const conn = await RawConnection.open(served.port);
      await conn.write(head('GET /'));
      expect((await conn.readResponse()).status).toBe(200);
      idle.push(conn);
    }
    const asked = Date.now();
    const res = await fetch(`http://127.0.0.1:${served.port}/`);
    expect(await res.text()).toBe('hello world');
    expect(Date.now() - asked).toBeLessThan(1000);
    for (const conn of idle) expect(conn.closed).toBe(false);
  });

  it('a waiting request starts as soon as a slot frees, and its client sees nothing odd', async () => {
    const release = deferred();
    const entered: string[] = [];
    const served = await serve(
      async (env: Environ, startResponse: StartResponse) => {
        entered.push(env.PATH_INFO);
        if (env.PATH_INFO === '/first') await release.promise;
        startResponse('200 OK', []);
        return [env.PATH_INFO];
      },
      { maxSize: 1 },
    );
    const first = await RawConnection.open(served.port);
    await first.write(head('GET /first'));
    await until(() => entered.length === 1, 2000, 'the first request to start');
    const second = await RawConnection.open(served.port);
    await second.write(head('GET /second'));
    await sleep(200);
    expect(entered).toEqual(['/first']);
    expect(second.received.length).toBe(0);
    release.resolve();
    expect((await first.readResponse()).text()).toBe('/first');
    expect((await second.readResponse()).text()).toBe('/second');
  });
});

describe('server.close({ timeout })', () => {
  it('a slow streamed response in progress completes intact, then the server closes', async () => {
    const started = deferred();
    const piece = Buffer.alloc(64 * 1024);
    const pieces = 32;
    const served = await serve(
      (_env: Environ, startResponse: StartResponse) => {
        startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
        started.resolve();
        return (async function* () {
          for (let i = 0; i < pieces; i++) {
            piece.fill(i);
            yield Buffer.from(piece);
            await sleep(15);
          }
        })();
      },
      { minimumChunkSize: 0 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /slow'));
    await started.promise;
    const closing = served.close({ timeout: 10 });
    const res = await conn.readResponse({ timeoutMs: 10000 });
    expect(res.status).toBe(200);
    expect(res.complete).toBe(true);
    expect(res.body.length).toBe(piece.length * pieces);
    for (let i = 0; i < pieces; i++) {
      expect(res.body.subarray(i * piece.length, (i + 1) * piece.length).every((b) => b === i)).toBe(true);
    }
    // The connection closes after that response (the server is going away).
    expect(res.header('connection') === undefined || res.header('connection') === 'close').toBe(true);
    expect(await conn.waitClosed(3000)).toBe(true);
    await within(closing, 3000, 'close() once the response finished');
  });

  it('a response whose head is composed after close() says Connection: close (SPEC §8), and the connection closes', async () => {
    const entered = deferred();
    const release = deferred();
    const served = await serve(async (_env: Environ, startResponse: StartResponse) => {
      entered.resolve();
      await release.promise;
      startResponse('200 OK', []);
      return ['x'];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    await entered.promise;
    const closing = served.close({ timeout: 5 });
    release.resolve();
    const res = await conn.readResponse();
    expect(res.status).toBe(200);
    expect(res.text()).toBe('x');
    expect(res.header('connection')).toBe('close');
    expect(await conn.waitClosed(3000)).toBe(true);
    await within(closing, 3000, 'close() once the response finished');
  });

  it('a request whose body is still arriving is served (eventlet test_do_not_close_non_idle_connections)', async () => {
    const served = await serve(async (env: Environ, startResponse: StartResponse) => {
      const body = await env['wsgi.input'].read();
      startResponse('200 OK', []);
      return [body];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('POST /echo', ['Host: localhost', 'Content-Length: 11']));
    await sleep(100);
    let closedEarly = false;
    const closing = served.close({ timeout: 10 }).then(() => (closedEarly = true));
    await sleep(500);
    expect(closedEarly).toBe(false);
    await conn.write('hello world');
    expect((await conn.readResponse()).text()).toBe('hello world');
    await within(closing, 3000, 'close() after the echo');
  });

  it('idle keep-alive connections close at once, while a request in progress goes on', async () => {
    const release = deferred();
    const started = deferred();
    const served = await serve(async (env: Environ, startResponse: StartResponse) => {
      if (env.PATH_INFO === '/busy') {
        started.resolve();
        await release.promise;
      }
      startResponse('200 OK', []);
      return [env.PATH_INFO];
    });
    const idle = await RawConnection.open(served.port);
    await idle.write(head('GET /idle'));
    expect((await idle.readResponse()).text()).toBe('/idle');
    const neverSpoke = await RawConnection.open(served.port);
    const busy = await RawConnection.open(served.port);
    await busy.write(head('GET /busy'));
    await started.promise;

    const closing = served.close({ timeout: 10 });
    const asked = Date.now();
    expect(await idle.waitClosed(1000)).toBe(true);
    expect(await neverSpoke.waitClosed(1000)).toBe(true);
    expect(Date.now() - asked).toBeLessThan(1000);
    expect(busy.closed).toBe(false);

    release.resolve();
    expect((await busy.readResponse()).text()).toBe('/busy');
    expect(await busy.waitClosed(3000)).toBe(true);
    await within(closing, 3000, 'close()');
  });

  it('refuses new connections from the moment it closes, before requests in progress end', async () => {
    const release = deferred();
    const started = deferred();
    const served = await serve(async (_env: Environ, startResponse: StartResponse) => {
      started.resolve();
      await release.promise;
      startResponse('200 OK', []);
      return ['late'];
    });
    const busy = await RawConnection.open(served.port);
    await busy.write(head('GET /busy'));
    await started.promise;
    const closing = served.close({ timeout: 10 });
    await sleep(100);
    await expect(connect(served.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    release.resolve();
    expect((await busy.readResponse()).text()).toBe('late');
    await within(closing, 3000, 'close()');
    await expect(connect(served.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('drops what is still running at the timeout: its body close() and post hooks run', async () => {
    const ran: string[] = [];
    const started = deferred();
    const served = await serve(
      (env: Environ, startResponse: StartResponse) => {
        env['eventlet.posthooks'].push([() => ran.push('hook')]);
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        started.resolve();
        const body = (async function* () {
          for (let i = 0; ; i++) {
            yield `tick ${i}\n`;
            await sleep(50);
          }
        })();
        return Object.assign(body, { close: () => ran.push('close') });
      },
      { minimumChunkSize: 0 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /endless'));
    await started.promise;
    const asked = Date.now();
    await within(served.close({ timeout: 0.5 }), 5000, 'close({ timeout: 0.5 })');
    const took = Date.now() - asked;
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(2000);
    expect(await conn.waitClosed(2000)).toBe(true);
    await until(() => ran.length === 2, 2000, 'close() and the post hook');
    expect(ran).toEqual(['close', 'hook']);
    // The client got a cut response: chunked, without its last chunk.
    expect(conn.received.toString('latin1')).toContain('tick 0');
    expect(conn.received.toString('latin1').endsWith('0\r\n\r\n')).toBe(false);
    // The log says what cut it: not the client.
    await until(() => served.logText().includes('/endless'), 2000, 'the log line of the cut response');
    expect(served.logLines().filter((line) => line.includes('/endless'))).toEqual([
      `127.0.0.1 - connection closed at close()'s timeout before the response to "GET /endless HTTP/1.1" was complete`,
    ]);
  });

  it("an app that never answers: the line for its cut request is in the log when close() resolves", async () => {
    const never = deferred();
    const entered = deferred();
    const served = await serve(async (_env: Environ, sr: StartResponse) => {
      entered.resolve();
      await never.promise;
      sr('200 OK', []);
      return ['too late'];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /stuck'));
    await entered.promise;
    await within(served.close({ timeout: 0.3 }), 5000, 'close({ timeout: 0.3 })');
    expect(served.logLines().filter((line) => line.includes('/stuck'))).toEqual([
      `127.0.0.1 - connection closed at close()'s timeout before the response to "GET /stuck HTTP/1.1" was complete`,
    ]);
    never.resolve();
  });

  it.each([
    [5, 'close: options must be an object, got 5'],
    [{ timeot: 1 }, "close: unknown option 'timeot'"],
    [{ timeout: -1 }, 'close: timeout must be a number of seconds >= 0, got -1'],
  ])('bad options are refused by name, and the server keeps serving: %j', async (options, message) => {
    const served = await serve(helloApp);
    expect(() => served.server.close(options as never)).toThrow(message);
    expect(await (await fetch(`http://127.0.0.1:${served.port}/`)).text()).toBe('hello world');
  });

  it('without requests in progress, close() resolves at once', async () => {
    const served = await serve(helloApp);
    expect(await (await fetch(`http://127.0.0.1:${served.port}/`)).text()).toBe('hello world');
    const asked = Date.now();
    await within(served.close({ timeout: 10 }), 2000, 'close()');
    expect(Date.now() - asked).toBeLessThan(1000);
  });
});
