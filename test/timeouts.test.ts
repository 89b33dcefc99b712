// Timeouts (SPEC §4, §8): socketTimeout bounds every stall of a read or a write, a numeric
// keepalive bounds the wait for a request, and headerTimeout bounds how long a request head may
// take to arrive, so that clients trickling heads (slowloris) cannot hold the server.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listen, server } from '../ts/index.js';
import type { Environ, StartResponse } from '../ts/index.js';
import { cleanup, serve, serveOn, track, trackServer } from './helpers/serve.js';
import { RawConnection, connect } from './helpers/raw-client.js';
import { helloApp } from './helpers/apps.js';
import { deferred, head, sleep, until, within } from './helpers/util.js';

afterEach(cleanup);

const MiB = 1 << 20;

/** Seconds since `start` (a Date.now() value). */
const secondsSince = (start: number) => (Date.now() - start) / 1000;

/** How long after `start` the server closed `conn` (rejects if it stays open past `limitMs`). */
async function closedAfter(conn: RawConnection, start: number, limitMs: number): Promise<number> {
  expect(await conn.waitClosed(limitMs), 'the server closed the connection in time').toBe(true);
  return secondsSince(start);
}

describe('socketTimeout', () => {
  it('drops a client that stalls in the middle of a head, without an answer', async () => {
    const served = await serve(helloApp, { socketTimeout: 0.5 });
    const conn = await RawConnection.open(served.port);
    await conn.write('GET / HTTP/1.1\r\nHost: localhost\r\n');
    const start = Date.now();
    const after = await closedAfter(conn, start, 3000);
    expect(after).toBeGreaterThanOrEqual(0.4);
    expect(after).toBeLessThan(1.5);
    expect(conn.received.length).toBe(0);
  });

  it("drops a stall after the request line alone (eventlet's test_server_socket_timeout)", async () => {
    const served = await serve(helloApp, { socketTimeout: 0.3 });
    const conn = await RawConnection.open(served.port);
    await conn.write('GET / HTTP/1.1\r\n');
    const after = await closedAfter(conn, Date.now(), 3000);
    expect(after).toBeGreaterThanOrEqual(0.2);
    expect(conn.received.length).toBe(0);
  });

  it('a head that keeps arriving is not cut by the socket timeout', async () => {
    const served = await serve(helloApp, { socketTimeout: 0.4 });
    const conn = await RawConnection.open(served.port);
    // Each piece comes well within the timeout; together they take longer than it.
    for (const piece of ['GET / HTTP/1.1\r\n', 'Host: localhost\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n']) {
      await conn.write(piece);
      await sleep(200);
    }
    await conn.write('\r\n');
    expect((await conn.readResponse()).status).toBe(200);
  });

  it('closes an idle keep-alive connection after the timeout', async () => {
    const served = await serve(helloApp, { socketTimeout: 0.4 });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    expect((await conn.readResponse()).status).toBe(200);
    const after = await closedAfter(conn, Date.now(), 3000);
    expect(after).toBeGreaterThanOrEqual(0.3);
    expect(after).toBeLessThan(1.5);
  });

  it('a client that stalls in the middle of a body: the pending read rejects, hooks run, the connection closes', async () => {
    const readError = deferred<Error>();
    const ran: string[] = [];
    const served = await serve(
      async (env: Environ, startResponse: StartResponse) => {
        env['eventlet.posthooks'].push([() => ran.push('hook')]);
        try {
          await env['wsgi.input'].read();
        } catch (err) {
          readError.resolve(err as Error);
          throw err;
        }
        startResponse('200 OK', []);
        return ['read it all'];
      },
      { socketTimeout: 0.5 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('POST /', ['Host: localhost', 'Content-Length: 1000']) + 'x'.repeat(100));
    const start = Date.now();
    const err = await within(readError.promise, 3000, 'the pending read to reject');
    expect(secondsSince(start)).toBeGreaterThanOrEqual(0.4);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/timed out/);
    await until(() => ran.length === 1, 2000, 'the post hook');
    expect(await conn.waitClosed(2000)).toBe(true);
    expect(conn.received.toString('latin1')).not.toContain('read it all');
  });

  it('a chunked body that stalls between chunks: the read rejects', async () => {
    const readError = deferred<Error>();
    const served = await serve(
      async (env: Environ, startResponse: StartResponse) => {
        try {
          await env['wsgi.input'].read();
        } catch (err) {
          readError.resolve(err as Error);
        }
        startResponse('200 OK', []);
        return [''];
      },
      { socketTimeout: 0.3 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('POST /', ['Host: localhost', 'Transfer-Encoding: chunked']) + '5\r\nhello\r\n');
    const err = await within(readError.promise, 3000, 'the pending read to reject');
    expect(err.message).toMatch(/timed out/);
    expect(await conn.waitClosed(2000)).toBe(true);
  });

  it('a body read that keeps receiving bytes is not cut by the socket timeout', async () => {
    const served = await serve(
      async (env: Environ, startResponse: StartResponse) => {
        const body = await env['wsgi.input'].read();
        startResponse('200 OK', []);
        return [String(body.length)];
      },
      { socketTimeout: 0.4 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('POST /', ['Host: localhost', 'Content-Length: 50']));
    for (let i = 0; i < 5; i++) {
      await sleep(150);
      await conn.write('x'.repeat(10));
    }
    expect((await conn.readResponse()).text()).toBe('50');
  });

  it('drops a client that stops reading a large streamed response; hooks and close() run', async () => {
    const ran: string[] = [];
    let yielded = 0;
    const served = await serve(
      (env: Environ, startResponse: StartResponse) => {
        env['eventlet.posthooks'].push([() => ran.push('hook')]);
        startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
        const piece = Buffer.alloc(256 * 1024, 'a');
        const body = (function* () {
          // 256 MiB: far more than the socket buffers can take while nobody reads.
          for (let i = 0; i < 1024; i++) {
            yielded += 1;
            yield piece;
          }
        })();
        return Object.assign(body, { close: () => ran.push('close') });
      },
      { socketTimeout: 0.5 },
    );
    const socket = await connect(served.port);
    socket.pause();
    socket.write(head('GET /big'));
    const start = Date.now();
    await until(() => ran.includes('hook'), 5000, 'the post hook after the client was dropped');
    expect(secondsSince(start)).toBeGreaterThanOrEqual(0.5);
    expect(ran).toEqual(['close', 'hook']);
    expect(yielded).toBeLessThan(1024);
    // The log says the server dropped it, not that the client left.
    await until(() => served.logText().includes('/big'), 2000, 'the log line of the dropped response');
    expect(served.logLines().filter((line) => line.includes('/big'))).toEqual([
      '127.0.0.1 - connection closed after socketTimeout without progress before the response to "GET /big HTTP/1.1" was complete',
    ]);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.resume();
    await within(closed, 3000, 'the dropped connection to end for the client');
  });

  it('a client that reads a large response slowly but steadily is not dropped', async () => {
    // socketTimeout bounds each stall of a write, not the whole response: this body takes
    // longer than the timeout to reach a client that never stops reading for long.
    const dir = mkdtempSync(join(tmpdir(), 'ferrowsgi-timeouts-'));
    try {
      const path = join(dir, 'sock');
      const total = 8 * MiB;
      await serveOn(track(listen(path)), (_env: Environ, startResponse: StartResponse) => {
        startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
        return [Buffer.alloc(total, 'b')];
      }, { socketTimeout: 0.5 });
      const socket = await connect({ path });
      const start = Date.now();
      const received = await readPaced(socket, head('GET /big', ['Host: localhost', 'Connection: close']), 25);
      expect(received.toString('latin1', 0, 20)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      const body = received.subarray(received.indexOf('\r\n\r\n') + 4);
      expect(body.length, 'body bytes before the server closed').toBe(total);
      // Only meaningful if the whole response took longer than one socket timeout.
      expect(secondsSince(start)).toBeGreaterThan(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a slow app is not a stall: the client waits, and gets its answer', async () => {
    const served = await serve(
      async (_env: Environ, startResponse: StartResponse) => {
        await sleep(800);
        startResponse('200 OK', []);
        return ['slow but fine'];
      },
      { socketTimeout: 0.3 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    expect((await conn.readResponse()).text()).toBe('slow but fine');
  });
});

/** Sends `request`, then reads until the server closes, pausing `pauseMs` after every piece. */
function readPaced(socket: net.Socket, request: string, pauseMs: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const pieces: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      pieces.push(chunk);
      socket.pause();
      setTimeout(() => socket.resume(), pauseMs);
    });
    socket.on('close', () => resolve(Buffer.concat(pieces)));
    socket.write(request);
  });
}

describe('numeric keepalive', () => {
  it('closes a keep-alive connection that stays idle that long, and says so in the response', async () => {
    const served = await serve(helloApp, { keepalive: 0.5 });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /', ['Host: localhost', 'Connection: keep-alive']));
    const res = await conn.readResponse();
    expect(res.status).toBe(200);
    expect(res.header('connection')).toBe('keep-alive');
    const after = await closedAfter(conn, Date.now(), 3000);
    expect(after).toBeGreaterThanOrEqual(0.4);
    expect(after).toBeLessThan(1.5);
  });

  it('bounds the wait for the first request of a new connection', async () => {
    const served = await serve(helloApp, { keepalive: 0.4 });
    const conn = await RawConnection.open(served.port);
    const after = await closedAfter(conn, Date.now(), 3000);
    expect(after).toBeGreaterThanOrEqual(0.3);
    expect(after).toBeLessThan(1.5);
    expect(conn.received.length).toBe(0);
  });

  it("a head that started in time may finish later (eventlet's test_server_keepalive_as_timeout)", async () => {
    const paths: string[] = [];
    const served = await serve(
      (env: Environ, startResponse: StartResponse) => {
        paths.push(env.PATH_INFO);
        startResponse('202 Accepted', []);
        return [''];
      },
      { keepalive: 0.3, socketTimeout: 2 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write('GET /late-headers HTTP/1.1\r\n');
    await sleep(500);
    await conn.write('Host: localhost\r\n\r\n');
    expect((await conn.readResponse()).status).toBe(202);
    // Then idle past the keep-alive timeout: the next request finds the connection closed.
    await sleep(600);
    expect(conn.closed).toBe(true);
    await conn.write(head('PUT /too-late'));
    await sleep(50);
    expect(paths).toEqual(['/late-headers']);
  });

  it('does not cut a request in progress', async () => {
    const served = await serve(
      async (_env: Environ, startResponse: StartResponse) => {
        await sleep(700);
        startResponse('200 OK', []);
        return ['finished'];
      },
      { keepalive: 0.2 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    expect((await conn.readResponse()).text()).toBe('finished');
  });
});

describe('headerTimeout', () => {
  it('is an option of seconds; false or 0 turn it off; anything else is refused', () => {
    for (const value of [-1, 'slow', true, null, Number.NaN]) {
      const l = track(listen(['127.0.0.1', 0]));
      expect(() => trackServer(server(l, helloApp, { headerTimeout: value as number, log: () => {} }))).toThrow(/headerTimeout/);
    }
    for (const value of [0, false, 0.5, 60] as const) {
      const l = track(listen(['127.0.0.1', 0]));
      expect(() => trackServer(server(l, helloApp, { headerTimeout: value, log: () => {} }))).not.toThrow();
    }
  });

  it('drops a head that trickles in for longer, even without socketTimeout', async () => {
    const served = await serve(helloApp, { headerTimeout: 0.8 });
    const conn = await RawConnection.open(served.port);
    const start = Date.now();
    const trickle = trickleHead(conn, 'GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ' + 'z'.repeat(100), 100);
    const after = await closedAfter(conn, start, 3000);
    trickle.stop();
    expect(after).toBeGreaterThanOrEqual(0.7);
    expect(after).toBeLessThan(1.6);
    expect(conn.received.length).toBe(0);
  });

  it('counts from the first byte of the head, not from the connection or the last response', async () => {
    const served = await serve(helloApp, { headerTimeout: 0.4 });
    const conn = await RawConnection.open(served.port);
    await sleep(700);
    await conn.write(head('GET /first'));
    expect((await conn.readResponse()).status).toBe(200);
    await sleep(700);
    await conn.write(head('GET /second'));
    expect((await conn.readResponse()).status).toBe(200);
  });

  it('false: a head may take as long as it likes', async () => {
    const served = await serve(helloApp, { headerTimeout: false });
    const conn = await RawConnection.open(served.port);
    const text = head('GET /');
    for (const piece of [text.slice(0, 5), text.slice(5, 20), text.slice(20)]) {
      await conn.write(piece);
      await sleep(500);
    }
    expect((await conn.readResponse()).status).toBe(200);
  });

  it('slowloris: 500 connections sending a header byte a second do not keep a normal client waiting', async () => {
    const headerTimeout = 2;
    const served = await serve(helloApp, { headerTimeout });
    const slow: RawConnection[] = [];
    const trickles: Array<{ stop(): void }> = [];
    const closedAt = new Map<RawConnection, number>();
    const startedAt = new Map<RawConnection, number>();
    try {
      // In batches, so that the listen backlog (50) never overflows into SYN retries.
      for (let batch = 0; batch < 10; batch++) {
        const opened = await Promise.all(Array.from({ length: 50 }, () => RawConnection.open(served.port)));
        for (const conn of opened) {
          slow.push(conn);
          startedAt.set(conn, Date.now());
          conn.socket.once('close', () => closedAt.set(conn, Date.now()));
          trickles.push(trickleHead(conn, 'GET / HTTP/1.1\r\nHost: localhost\r\nX-Slowloris: ' + 'x'.repeat(60), 1000));
        }
      }
      const openedAll = Date.now();
      await sleep(500);
      // While all 500 are mid-head, a normal client is answered at once.
      for (let i = 0; i < 3; i++) {
        const asked = Date.now();
        const conn = await RawConnection.open(served.port);
        await conn.write(head('GET /normal', ['Host: localhost', 'Connection: close']));
        const res = await conn.readResponse({ timeoutMs: 1000 });
        expect(res.status).toBe(200);
        expect(res.text()).toBe('hello world');
        expect(Date.now() - asked).toBeLessThan(1000);
        conn.destroy();
        await sleep(300);
      }
      // None was dropped early. (On a loaded machine opening the 500 takes long enough that the
      // first batches may already have reached their timeout: each is judged by its own start.)
      for (const [conn, at] of closedAt) {
        expect((at - startedAt.get(conn)!) / 1000, 'a slow connection closed before its header timeout').toBeGreaterThanOrEqual(headerTimeout - 0.2);
      }
      // Each slow connection is dropped once its head has taken headerTimeout seconds.
      await until(() => closedAt.size === slow.length, (headerTimeout + 2) * 1000 - (Date.now() - openedAll), 'all 500 slow connections to be dropped');
      for (const conn of slow) {
        const lasted = (closedAt.get(conn)! - startedAt.get(conn)!) / 1000;
        expect(lasted).toBeGreaterThanOrEqual(headerTimeout - 0.2);
        expect(lasted).toBeLessThan(headerTimeout + 1.5);
        expect(conn.received.length).toBe(0);
      }
      // And the server serves as before.
      const res = await fetch(`http://127.0.0.1:${served.port}/after`);
      expect(await res.text()).toBe('hello world');
    } finally {
      for (const trickle of trickles) trickle.stop();
    }
  });
});

/** Writes `text` one byte every `intervalMs`, starting at once, until it is sent or stopped. */
function trickleHead(conn: RawConnection, text: string, intervalMs: number): { stop(): void } {
  let at = 0;
  const send = () => {
    if (at >= text.length || conn.closed) return stop();
    void conn.write(text[at++]!);
  };
  const timer = setInterval(send, intervalMs);
  const stop = () => clearInterval(timer);
  send();
  return { stop };
}
