// Pipelined requests (RFC 9112 §9.3.2): the core hands requests without a body to JS before the
// responses ahead of them have ended, and JS serves them one after another, as on the wire.
// Whatever the apps do, responses leave in request order, apps never overlap on a connection,
// and nothing behind a response that closes the connection is served.
import { afterEach, describe, expect, it } from 'vitest';
import type { Environ, StartResponse } from '../ts/index.js';
import { cleanup, serve } from './helpers/serve.js';
import { RawConnection } from './helpers/raw-client.js';
import { head, sleep } from './helpers/util.js';

afterEach(cleanup);

const path = (env: Environ) => String(env['PATH_INFO']);

async function readBodies(conn: RawConnection, count: number): Promise<string[]> {
  const bodies: string[] = [];
  for (let i = 0; i < count; i++) bodies.push((await conn.readResponse({ timeoutMs: 5000 })).text());
  return bodies;
}

describe('pipelined requests', () => {
  it('40 GETs in one write, answered by async apps that finish in reverse order: in order, never overlapping', async () => {
    let running = 0;
    let overlapped = false;
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      running += 1;
      if (running > 1) overlapped = true;
      const n = Number(path(env).slice(1));
      await sleep(40 - n);
      running -= 1;
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return [path(env)];
    });
    const conn = await RawConnection.open(served.port);
    const paths = Array.from({ length: 40 }, (_, i) => `/${i}`);
    await conn.write(paths.map((p) => head(`GET ${p}`)).join(''));
    expect(await readBodies(conn, 40)).toEqual(paths);
    expect(overlapped).toBe(false);
    // The access log follows the same order.
    const logged = served.logLines().map((line) => /"GET (\/\d+) /.exec(line)?.[1]).filter(Boolean);
    expect(logged).toEqual(paths);
  });

  it('sync apps: 64 GETs in one write are all answered, and the connection serves again afterwards', async () => {
    const served = await serve((env: Environ, sr: StartResponse) => {
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return [path(env)];
    });
    const conn = await RawConnection.open(served.port);
    const paths = Array.from({ length: 64 }, (_, i) => `/s${i}`);
    await conn.write(paths.map((p) => head(`GET ${p}`)).join(''));
    expect(await readBodies(conn, 64)).toEqual(paths);
    await conn.write(head('GET /again'));
    expect(await readBodies(conn, 1)).toEqual(['/again']);
  });

  it('a response with Connection: close ends the connection: the requests behind it are not served', async () => {
    const seen: string[] = [];
    const served = await serve((env: Environ, sr: StartResponse) => {
      seen.push(path(env));
      sr('200 OK', path(env) === '/2' ? [['Connection', 'close']] : []);
      return [path(env)];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(['/1', '/2', '/3', '/4'].map((p) => head(`GET ${p}`)).join(''));
    expect(await readBodies(conn, 2)).toEqual(['/1', '/2']);
    expect(await conn.waitClosed()).toBe(true);
    await sleep(50);
    expect(seen).toEqual(['/1', '/2']);
  });

  it('requests with bodies wait their turn between bodiless ones', async () => {
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      const body = (await (env['wsgi.input'] as { read(): Promise<Buffer> }).read()).toString();
      sr('200 OK', []);
      return [`${env['REQUEST_METHOD']} ${path(env)} ${body}`];
    });
    const conn = await RawConnection.open(served.port);
    const post = (p: string, body: string) => `POST ${p} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    await conn.write(head('GET /a') + post('/b', 'bee') + head('GET /c') + head('GET /d') + post('/e', 'eee') + head('GET /f'));
    expect(await readBodies(conn, 6)).toEqual(['GET /a ', 'POST /b bee', 'GET /c ', 'GET /d ', 'POST /e eee', 'GET /f ']);
  });

  it('post hooks run in order, each after its own response', async () => {
    const order: string[] = [];
    const served = await serve((env: Environ, sr: StartResponse) => {
      (env['eventlet.posthooks'] as unknown[]).push([() => order.push(`hook ${path(env)}`), [], {}]);
      order.push(`app ${path(env)}`);
      sr('200 OK', []);
      return [path(env)];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(['/1', '/2', '/3'].map((p) => head(`GET ${p}`)).join(''));
    expect(await readBodies(conn, 3)).toEqual(['/1', '/2', '/3']);
    await sleep(50);
    expect(order).toEqual(['app /1', 'hook /1', 'app /2', 'hook /2', 'app /3', 'hook /3']);
  });

  it('a client that leaves with requests pipelined: what it sent may run, in order, and the server carries on', async () => {
    const seen: string[] = [];
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      seen.push(path(env));
      await sleep(50);
      sr('200 OK', []);
      return [path(env)];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(['/1', '/2', '/3'].map((p) => head(`GET ${p}`)).join(''));
    await sleep(20);
    conn.destroy();
    await sleep(300);
    expect(['/1', '/1,/2', '/1,/2,/3']).toContain(seen.join(','));
    const res = await fetch(`http://127.0.0.1:${served.port}/after`);
    expect(await res.text()).toBe('/after');
  });

  it('a response held back to leave with the next one never waits for a slow app', async () => {
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      if (path(env) === '/slow') await sleep(400);
      sr('200 OK', []);
      return [path(env)];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /fast') + head('GET /slow'));
    const started = Date.now();
    expect((await conn.readResponse({ timeoutMs: 5000 })).text()).toBe('/fast');
    expect(Date.now() - started).toBeLessThan(300);
    expect((await conn.readResponse({ timeoutMs: 5000 })).text()).toBe('/slow');
  });

  it('small, large, streamed and hooked responses interleaved in one pipeline keep their order and bytes', async () => {
    const big = Buffer.alloc(200_000, 'b');
    const served = await serve((env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      switch (path(env)) {
        case '/big':
          return [big];
        case '/stream':
          return (async function* () {
            yield 'str';
            yield 'eam';
          })();
        case '/hooked':
          (env['eventlet.posthooks'] as unknown[]).push([() => undefined, [], {}]);
          return ['hooked'];
        default:
          return [path(env)];
      }
    });
    const conn = await RawConnection.open(served.port);
    const order = ['/a', '/big', '/b', '/stream', '/c', '/hooked', '/d', '/big', '/e'];
    await conn.write(order.map((p) => head(`GET ${p}`)).join(''));
    const expected = order.map((p) => (p === '/big' ? big.toString() : p === '/stream' ? 'stream' : p === '/hooked' ? 'hooked' : p));
    expect(await readBodies(conn, order.length)).toEqual(expected);
  });

  it('40 held-back 15 KiB answers to a client that reads late: all arrive, in order, and the connection serves again', async () => {
    const served = await serve((env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return [path(env).padEnd(15 * 1024, '.')];
    });
    const conn = await RawConnection.open(served.port);
    conn.socket.pause();
    const paths = Array.from({ length: 40 }, (_, i) => `/h${i}`);
    await conn.write(paths.map((p) => head(`GET ${p}`)).join(''));
    await sleep(200);
    conn.socket.resume();
    const bodies = await readBodies(conn, 40);
    expect(bodies.map((b) => b.replace(/\.+$/, ''))).toEqual(paths);
    expect(bodies.every((b) => b.length === 15 * 1024)).toBe(true);
    await conn.write(head('GET /again'));
    expect((await readBodies(conn, 1))[0]!.replace(/\.+$/, '')).toBe('/again');
  });

  it('maxSize 1: two connections pipelining 5 requests each never run two apps at once', async () => {
    let running = 0;
    let most = 0;
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      running += 1;
      most = Math.max(most, running);
      await sleep(5);
      running -= 1;
      sr('200 OK', []);
      return [path(env)];
    }, { maxSize: 1 });
    const paths = (tag: string) => Array.from({ length: 5 }, (_, i) => `/${tag}${i}`);
    const [a, b] = await Promise.all([RawConnection.open(served.port), RawConnection.open(served.port)]);
    await Promise.all([
      a.write(paths('a').map((p) => head(`GET ${p}`)).join('')),
      b.write(paths('b').map((p) => head(`GET ${p}`)).join('')),
    ]);
    const [fromA, fromB] = await Promise.all([readBodies(a, 5), readBodies(b, 5)]);
    expect(fromA).toEqual(paths('a'));
    expect(fromB).toEqual(paths('b'));
    expect(most).toBe(1);
  });
});
