// SPEC §11: env['eventlet.posthooks'] entries run in order as func(env, ...args, kwargs) once the
// last byte of the response was written to the socket, or once the client went away.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listen } from '../ts/index.js';
import type { Environ, StartResponse } from '../ts/index.js';
import { native } from '../ts/native/binding.js';
import { cleanup, serve, serveOn, track, type Served } from './helpers/serve.js';
import { killExamples, startExample } from './helpers/example-process.js';
import { RawConnection, connect, type Target } from './helpers/raw-client.js';
import { deferred, head, sleep, until, within } from './helpers/util.js';

afterEach(cleanup);

const MiB = 1 << 20;

/** A client that reads only when told to, and counts what it got (node buffers little itself). */
class SlowReader {
  received = 0;
  ended = false;
  private constructor(readonly socket: net.Socket) {
    socket.pause();
    socket.on('end', () => (this.ended = true));
    socket.on('close', () => (this.ended = true));
  }

  static async open(target: Target): Promise<SlowReader> {
    return new SlowReader(await connect(target));
  }

  /** Reads everything until the server closes, pausing `pauseMs` after every piece. */
  readToEnd(pauseMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.ended) return resolve();
      this.socket.on('close', () => resolve());
      this.socket.on('data', (chunk: Buffer) => {
        this.received += chunk.length;
        if (pauseMs > 0) {
          this.socket.pause();
          setTimeout(() => this.socket.resume(), pauseMs);
        }
      });
      this.socket.resume();
    });
  }
}

/** Serves on a Unix socket: its small kernel buffers make "written" mean "nearly all read". */
async function serveUnix(app: Parameters<typeof serve>[0]): Promise<{ served: Served; path: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ferrowsgi-hooks-'));
  const path = join(dir, 'sock');
  const served = await serveOn(track(listen(path)), app);
  onTestEnd(() => rmSync(dir, { recursive: true, force: true }));
  return { served, path };
}

const afterTest: Array<() => void> = [];
function onTestEnd(fn: () => void): void {
  afterTest.push(fn);
}
afterEach(() => {
  for (const fn of afterTest.splice(0)) fn();
});

describe('calls', () => {
  it('run in list order as func(env, ...args, kwargs), with the env the app got', async () => {
    const calls: unknown[][] = [];
    let appEnv: Environ | undefined;
    const served = await serve((env: Environ, startResponse: StartResponse) => {
      appEnv = env;
      env['eventlet.posthooks'].push(
        [(e: Environ, ...rest: unknown[]) => calls.push(['first', e, ...rest]), ['arg1', 'arg2'], { kwarg3: 3, kwarg4: 4 }],
        [(e: Environ, ...rest: unknown[]) => calls.push(['second', e, ...rest]), [7]],
        [(e: Environ, ...rest: unknown[]) => calls.push(['third', e, ...rest])],
      );
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return ['Hello, World!\r\n'];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /hooks'));
    expect((await conn.readResponse()).text()).toBe('Hello, World!\r\n');
    await until(() => calls.length === 3, 2000, 'three hook calls');
    expect(calls).toEqual([
      ['first', appEnv, 'arg1', 'arg2', { kwarg3: 3, kwarg4: 4 }],
      ['second', appEnv, 7],
      ['third', appEnv],
    ]);
    expect(calls[0]![1]).toBe(appEnv);
  });

  it("eventlet's test_029: each request's hooks run once, after its response", async () => {
    let counter = 0;
    const served = await serve((env: Environ, startResponse: StartResponse) => {
      const step = Number(env.QUERY_STRING);
      env['eventlet.posthooks'].push([(_e: Environ, by: number) => (counter += by), [step]]);
      env['eventlet.posthooks'].push([(_e: Environ, _by: number, { times }: { times: number }) => (counter *= times), [0], { times: 2 }]);
      startResponse('200 OK', []);
      return [String(counter)];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /?3'));
    expect((await conn.readResponse()).text()).toBe('0');
    await until(() => counter === 6, 2000, 'counter 6');
    await conn.write(head('GET /?7'));
    expect((await conn.readResponse()).text()).toBe('6');
    await until(() => counter === 26, 2000, 'counter 26');
  });

  it('run after the body close(), and before the access line', async () => {
    const order: string[] = [];
    const served = await serve(
      (env: Environ, startResponse: StartResponse) => {
        env['eventlet.posthooks'].push([() => order.push('hook')]);
        startResponse('200 OK', []);
        return Object.assign(['x'], { close: () => order.push('close') });
      },
      { log: (line: string) => order.push(line.includes('"GET /order HTTP/1.1" 200') ? 'access line' : line) },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /order'));
    await conn.readResponse();
    await until(() => order.length === 3, 2000, 'close, hook and access line');
    expect(order).toEqual(['close', 'hook', 'access line']);
  });

  it('a list the app replaced is the one that runs', async () => {
    const ran: string[] = [];
    const served = await serve((env: Environ, startResponse: StartResponse) => {
      env['eventlet.posthooks'].push([() => ran.push('from the old list')]);
      env['eventlet.posthooks'] = [[(_e: Environ, what: string) => ran.push(what), ['from the new list']]];
      startResponse('200 OK', []);
      return ['x'];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    await conn.readResponse();
    await until(() => ran.length > 0, 2000, 'the hook');
    await sleep(50);
    expect(ran).toEqual(['from the new list']);
  });

  it('hooks added while the body streams, after the app returned, run too', async () => {
    const ran: string[] = [];
    const served = await serve(
      (env: Environ, startResponse: StartResponse) => {
        startResponse('200 OK', []);
        return (async function* body() {
          yield 'one;';
          await sleep(20);
          env['eventlet.posthooks'].push([() => ran.push('late hook')]);
          yield 'two';
        })();
      },
      { minimumChunkSize: 0 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    expect((await conn.readResponse()).text()).toBe('one;two');
    await until(() => ran.length === 1, 2000, 'the late hook');
  });

  it('run when the app throws (after the 500 is written)', async () => {
    const ran: string[] = [];
    const served = await serve((env: Environ) => {
      env['eventlet.posthooks'].push([() => ran.push('hook')]);
      throw new Error('intentional error');
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    expect((await conn.readResponse()).status).toBe(500);
    await until(() => ran.length === 1, 2000, 'the hook');
  });

  it('a throwing hook is logged, the later hooks run, and the server keeps serving', async () => {
    const ran: string[] = [];
    const served = await serve((env: Environ, startResponse: StartResponse) => {
      env['eventlet.posthooks'].push(
        [() => ran.push('first')],
        [() => { throw new Error('hook blew up'); }],
        [async () => { throw new Error('async hook blew up'); }],
        [() => ran.push('last')],
      );
      startResponse('200 OK', []);
      return [env.PATH_INFO];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /one'));
    expect((await conn.readResponse()).text()).toBe('/one');
    await until(() => ran.length === 2, 2000, 'the hooks around the throwing ones');
    expect(ran).toEqual(['first', 'last']);
    await until(() => served.logText().includes('async hook blew up'), 2000, 'the async failure in the log');
    const failures = served.logLines().filter((line) => line.startsWith('post hook failed'));
    expect(failures).toHaveLength(2);
    expect(failures[0]).toContain('Error: hook blew up');
    expect(failures[1]).toContain('Error: async hook blew up');
    // The same connection still serves, and the hooks of the next request run as well.
    await conn.write(head('GET /two'));
    expect((await conn.readResponse()).text()).toBe('/two');
    await until(() => ran.length === 4, 2000, 'the second request\'s hooks');
  });
});

describe('timing: not before the client has the whole body', () => {
  // Windows has no Unix domain sockets for the core to serve; the TCP test below runs there.
  it.skipIf(process.platform === 'win32')('over a Unix socket: the hook waits while the client does not read, and runs at the end of a slow read', async () => {
    const total = 8 * MiB;
    let reader: SlowReader | undefined;
    let receivedAtHook = -1;
    const { path } = await serveUnix((env: Environ, startResponse: StartResponse) => {
      env['eventlet.posthooks'].push([() => (receivedAtHook = reader!.received)]);
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      return [Buffer.alloc(total, 'x')];
    });
    reader = await SlowReader.open({ path });
    reader.socket.write(head('GET /big', ['Host: localhost', 'Connection: close']));
    await sleep(700);
    expect(receivedAtHook).toBe(-1);
    await within(reader.readToEnd(1), 15000, 'reading the body');
    expect(reader.received).toBeGreaterThan(total);
    await until(() => receivedAtHook >= 0, 2000, 'the hook');
    // Between "the last byte was written" and "the client read it" lie only the kernel's buffers
    // of a Unix socket (a few hundred KiB) and Node's read buffer.
    expect(reader.received - receivedAtHook).toBeLessThan(MiB);
  });

  it('over TCP: a streamed body, the hook waits while the client does not read', async () => {
    const piece = Buffer.alloc(256 * 1024, 'y');
    const pieces = 64; // 16 MiB: far more than loopback buffers hold for a client that does not read
    let reader: SlowReader | undefined;
    let receivedAtHook = -1;
    const served = await serve((env: Environ, startResponse: StartResponse) => {
      env['eventlet.posthooks'].push([() => (receivedAtHook = reader!.received)]);
      startResponse('200 OK', [['Content-Length', String(piece.length * pieces)]]);
      return (function* body() {
        for (let i = 0; i < pieces; i++) yield piece;
      })();
    });
    reader = await SlowReader.open(served.port);
    reader.socket.write(head('GET /big', ['Host: localhost', 'Connection: close']));
    await sleep(700);
    expect(receivedAtHook).toBe(-1);
    await within(reader.readToEnd(0), 15000, 'reading the body');
    await until(() => receivedAtHook >= 0, 2000, 'the hook');
    expect(reader.received).toBeGreaterThan(piece.length * pieces);
  });
});

describe('when the client goes away', () => {
  it('in the middle of a streamed response: hooks run, close() runs, one log line', async () => {
    const ran: string[] = [];
    const served = await serve(
      (env: Environ, startResponse: StartResponse) => {
        env['eventlet.posthooks'].push([() => ran.push('hook')]);
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        const body = (async function* () {
          for (let i = 0; i < 1000; i++) {
            yield `line ${i}\n`;
            await sleep(10);
          }
        })();
        return Object.assign(body, { close: () => ran.push('close') });
      },
      { minimumChunkSize: 0 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /stream'));
    await conn.readUntil('line 2\n');
    conn.destroy();
    await until(() => ran.includes('hook'), 3000, 'the hook after the disconnect');
    expect(ran).toEqual(['close', 'hook']);
    await sleep(100);
    expect(ran).toEqual(['close', 'hook']);
    const lines = served.logLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('disconnected');
    expect(lines[0]).not.toMatch(/\n|\s+at /);
  });

  it('in the middle of a large body sent in one piece', async () => {
    const ran: string[] = [];
    const served = await serve((env: Environ, startResponse: StartResponse) => {
      env['eventlet.posthooks'].push([() => ran.push('hook')]);
      startResponse('200 OK', []);
      return [Buffer.alloc(32 * MiB, 'z')];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /big'));
    await conn.readUntil('zzzz');
    conn.destroy();
    await until(() => ran.length === 1, 3000, 'the hook after the disconnect');
  });

  it('before the app answered: the hooks run once the app is done', async () => {
    const ran: string[] = [];
    const release = deferred();
    const called = deferred();
    const served = await serve(async (env: Environ, startResponse: StartResponse) => {
      env['eventlet.posthooks'].push([() => ran.push('hook')]);
      called.resolve();
      await release.promise;
      startResponse('200 OK', []);
      return ['too late'];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    await called.promise;
    conn.destroy();
    await sleep(100);
    release.resolve();
    await until(() => ran.length === 1, 3000, 'the hook');
    await sleep(50);
    expect(ran).toEqual(['hook']);
  });

  it('while the app reads the body: the read rejects and the hooks run', async () => {
    const ran: string[] = [];
    const readFailed = deferred<unknown>();
    const served = await serve(async (env: Environ, startResponse: StartResponse) => {
      env['eventlet.posthooks'].push([() => ran.push('hook')]);
      try {
        await env['wsgi.input'].read();
      } catch (err) {
        readFailed.resolve(err);
      }
      startResponse('200 OK', []);
      return ['x'];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('POST /', ['Host: localhost', 'Content-Length: 100']) + 'only part');
    await sleep(100);
    conn.destroy();
    expect(await within(readFailed.promise, 3000, 'the read to reject')).toBeInstanceOf(Error);
    await until(() => ran.length === 1, 3000, 'the hook');
  });
});

describe('the completion report (NOTIFY) is asked for only by requests with hooks', () => {
  it('END carries NOTIFY with hooks and not without', async () => {
    const WRITE_END = 1;
    const NOTIFY = 4;
    const proto = native.NativeServer.prototype as {
      respond: (...args: unknown[]) => boolean;
      write: (...args: unknown[]) => boolean;
    };
    const endFlags: Array<[string, number]> = [];
    const originalRespond = proto.respond;
    const originalWrite = proto.write;
    const respond = vi.spyOn(proto, 'respond').mockImplementation(function (this: unknown, ...args: unknown[]) {
      const flags = args[4] as number;
      if (flags & WRITE_END) endFlags.push([String(args[1]).split('\r\n')[0]!, flags]);
      return originalRespond.apply(this, args);
    });
    const write = vi.spyOn(proto, 'write').mockImplementation(function (this: unknown, ...args: unknown[]) {
      const flags = args[2] as number;
      if (flags & WRITE_END) endFlags.push(['write', flags]);
      return originalWrite.apply(this, args);
    });
    onTestEnd(() => {
      respond.mockRestore();
      write.mockRestore();
    });
    const served = await serve(
      (env: Environ, startResponse: StartResponse) => {
        const withHook = env.PATH_INFO.startsWith('/hook');
        if (withHook) env['eventlet.posthooks'].push([() => {}]);
        startResponse(withHook ? '201 Hooked' : '200 OK', []);
        if (env.PATH_INFO.endsWith('/stream')) return (function* () { yield 'streamed'; })();
        return ['whole'];
      },
      { minimumChunkSize: 0 },
    );
    const conn = await RawConnection.open(served.port);
    for (const path of ['/plain', '/hook', '/plain/stream', '/hook/stream']) {
      await conn.write(head(`GET ${path}`));
      await conn.readResponse();
    }
    expect(endFlags.map(([what, flags]) => [what, (flags & NOTIFY) !== 0])).toEqual([
      ['HTTP/1.1 200 OK', false],
      ['HTTP/1.1 201 Hooked', true],
      ['write', false],
      ['write', true],
    ]);
  });
});

describe('examples/posthooks.ts', () => {
  afterEach(killExamples);

  it('runs, answers, and its hook prints the arguments after the response', async () => {
    const example = await startExample('posthooks.ts');
    const res = await fetch(example.url + '/');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('Hello, World!\r\n');
    await until(() => example.output().includes('Hook called:'), 5000, "the hook's print");
    // console.log's %s shows the environ object, then the args and the kwargs' values.
    expect(example.output()).toMatch(/Hook called: [\s\S]*REQUEST_METHOD[\s\S]* arg1 arg2 3 4\n/);
    expect(await example.stop()).toBe(0);
  });
});
