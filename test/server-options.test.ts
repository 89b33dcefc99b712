// SPEC §4: server(listener, app, options) → Server; misuse fails at the call naming the culprit.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { listen, server } from '../ts/index.js';
import type { Environ, StartResponse } from '../ts/index.js';
import { cleanup, serve, track, trackServer, type ServerOptions } from './helpers/serve.js';
import { RawConnection, connect } from './helpers/raw-client.js';
import { helloApp } from './helpers/apps.js';
import { deferred, head, sleep, within } from './helpers/util.js';

afterEach(cleanup);

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/lifetime.ts', import.meta.url));

/** Calls server() with arguments of the wrong kind and returns what it threw. */
function serverError(app: unknown, options?: unknown): Error {
  const l = track(listen(['127.0.0.1', 0]));
  try {
    const s = server(l, app as Parameters<typeof server>[1], options as ServerOptions);
    trackServer(s);
  } catch (err) {
    return err as Error;
  }
  throw new Error('server() did not throw');
}

describe('server() misuse fails at the call and names the culprit', () => {
  it.each([
    ['a string', 'not a function'],
    ['null', null],
    ['an object', { call: () => [] }],
  ])('app that is %s', (_label, app) => {
    const err = serverError(app);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/app/i);
  });

  it('unknown option name', () => {
    const err = serverError(helloApp, { maxsize: 10 });
    expect(err.message).toContain('maxsize');
  });

  it.each([
    ['maxSize', 0],
    ['maxSize', -5],
    ['maxSize', 1.5],
    ['maxSize', 'many'],
    ['keepalive', -1],
    ['keepalive', 'yes'],
    ['minimumChunkSize', -1],
    ['minimumChunkSize', 'big'],
    ['urlLengthLimit', 0],
    ['debug', 'yes'],
    ['logOutput', 1],
    ['logXForwardedFor', 'no'],
    ['capitalizeResponseHeaders', 'on'],
    ['maxHttpVersion', 'HTTP/2'],
    ['logFormat', 42],
    ['log', 42],
    ['environ', 'a=b'],
    ['socketTimeout', -1],
  ])('option %s = %j', (name, value) => {
    const err = serverError(helloApp, { [name]: value });
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain(name);
  });

  it('valid values of the same options are accepted', async () => {
    const served = await serve(helloApp, {
      maxSize: 1,
      keepalive: 5,
      minimumChunkSize: 0,
      urlLengthLimit: 100,
      debug: false,
      logOutput: false,
      logXForwardedFor: false,
      capitalizeResponseHeaders: true,
      maxHttpVersion: 'HTTP/1.0',
      logFormat: '%(request_line)s',
      environ: { 'test.key': 'v' },
      socketTimeout: 5,
    });
    const res = await fetch(`http://127.0.0.1:${served.port}/`);
    expect(await res.text()).toBe('hello world');
  });
});

describe('the Server object', () => {
  it('address matches the listener; listening resolves; it serves', async () => {
    const l = track(listen(['127.0.0.1', 0]));
    const srv = trackServer(server(l, helloApp, { log: () => {} }));
    await within(Promise.resolve(srv.listening), 3000, 'listening');
    expect(srv.address).toEqual(l.address);
    const port = (srv.address as { port: number }).port;
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello world');
  });

  it('close() resolves, closed resolves, and the port no longer accepts', async () => {
    const l = track(listen(['127.0.0.1', 0]));
    const srv = server(l, helloApp, { log: () => {} });
    await srv.listening;
    const port = (srv.address as { port: number }).port;
    let closedResolved = false;
    void Promise.resolve(srv.closed).then(() => {
      closedResolved = true;
    });
    await sleep(50);
    expect(closedResolved).toBe(false);
    await within(Promise.resolve(srv.close()), 5000, 'close()');
    await within(Promise.resolve(srv.closed), 5000, 'closed');
    expect(closedResolved).toBe(true);
    await expect(connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('close() closes idle keep-alive connections', async () => {
    const served = await serve(helloApp);
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    const res = await conn.readResponse();
    expect(res.status).toBe(200);
    expect(conn.closed).toBe(false);
    await within(served.close({ timeout: 5 }), 5000, 'close()');
    expect(await conn.waitClosed(3000)).toBe(true);
  });

  it('close({ timeout }) lets a slow response in progress finish, not cut short', async () => {
    const started = deferred();
    async function* slow() {
      yield 'first;';
      await sleep(300);
      yield 'second;';
      await sleep(300);
      yield 'third';
    }
    const served = await serve(
      (_env: Environ, startResponse: StartResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        started.resolve();
        return slow();
      },
      { minimumChunkSize: 0 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /slow'));
    await started.promise;
    const closing = served.close({ timeout: 10 });
    const res = await conn.readResponse();
    expect(res.status).toBe(200);
    expect(res.complete).toBe(true);
    expect(res.text()).toBe('first;second;third');
    await within(closing, 5000, 'close() after the response finished');
    expect(await conn.waitClosed(3000)).toBe(true);
  });

  it('close({ timeout }) drops a request that is still in progress when the timeout expires', async () => {
    const started = deferred();
    const never = deferred();
    const served = await serve(async (_env: Environ, startResponse: StartResponse) => {
      started.resolve();
      await never.promise;
      startResponse('200 OK', []);
      return ['too late'];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /stuck'));
    await started.promise;
    await within(served.close({ timeout: 0.3 }), 8000, 'close({ timeout: 0.3 })');
    expect(await conn.waitClosed(3000)).toBe(true);
    expect(conn.received.toString('latin1')).not.toContain('too late');
    never.resolve();
  });
});

describe('process lifetime', () => {
  function runFixture(mode: 'open' | 'close') {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, exited, out: () => stdout, err: () => stderr };
  }

  it('an open server keeps the process alive', async () => {
    const run = runFixture('open');
    try {
      await within(
        (async () => {
          while (!/listening \d+/.test(run.out())) {
            if (run.child.exitCode !== null) throw new Error(`fixture exited early: ${run.err()}`);
            await sleep(50);
          }
        })(),
        15000,
        'the fixture to start listening',
      );
      await sleep(1000);
      expect(run.child.exitCode).toBeNull();
      // and it really serves
      const port = Number(/listening (\d+)/.exec(run.out())![1]);
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('alive');
    } finally {
      run.child.kill('SIGKILL');
      await run.exited;
    }
  });

  it('a closed server lets the process exit by itself', async () => {
    const run = runFixture('close');
    try {
      const code = await within(run.exited, 15000, 'the fixture process to exit');
      expect(run.out()).toContain('closed');
      expect(code, run.err()).toBe(0);
    } finally {
      if (run.child.exitCode === null) {
        run.child.kill('SIGKILL');
        await run.exited;
      }
    }
  });
});
