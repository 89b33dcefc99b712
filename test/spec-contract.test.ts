// SPEC.md statements that no other test file checked, each against a real server over real
// sockets (or a real child process). The other files cover the rest of the contract; the audit
// that found these gaps is summed up in this file's commit message.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { listen } from '../ts/index.js';
import type { Environ, StartResponse } from '../ts/index.js';
import { cleanup, serve, serveOn, track, type App } from './helpers/serve.js';
import { RawConnection, connect } from './helpers/raw-client.js';
import { helloApp, inputOf } from './helpers/apps.js';
import { deferred, head, sleep, until, within } from './helpers/util.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const onWindows = process.platform === 'win32';
const latin1 = (b: Buffer) => b.toString('latin1');

const children = new Set<ChildProcess>();
const scratchDirs: string[] = [];
afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  for (const dir of scratchDirs.splice(0)) {
    chmodSync(dir, 0o700);
    rmSync(dir, { recursive: true, force: true });
  }
  await cleanup();
});

interface Child {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs node (with tsx) on `args`, stdout and stderr kept apart. */
function spawnNode(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Child {
  const child = spawn(process.execPath, ['--import', tsxLoader, ...args], {
    cwd: options.cwd ?? root,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** An ES module script for `node -e` that imports this repository's ts/index.ts. */
function script(body: string): string[] {
  const index = pathToFileURL(join(root, 'ts', 'index.ts')).href;
  return ['--input-type=module', '-e', `import { listen, server } from ${JSON.stringify(index)};\n${body}`];
}

describe('SPEC §2 listen()', () => {
  it('listens synchronously: a client connects before server() is called, and is served once it is', async () => {
    const l = track(listen(['127.0.0.1', 0]));
    const port = (l.address as { port: number }).port;
    const conn = await RawConnection.open(port); // accepted by the kernel: the socket already listens
    await conn.write(head('GET /early', ['Host: localhost', 'Connection: close']));
    expect((await conn.unreadAfter(100)).length).toBe(0);
    await serveOn(l, (env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return [env.PATH_INFO];
    });
    const res = await conn.readResponse();
    expect(res.statusLine).toBe('HTTP/1.1 200 OK');
    expect(res.text()).toBe('/early');
  });

  // `ss` shows a listening socket's backlog as its Send-Q.
  const hasSs = (() => {
    if (process.platform !== 'linux') return false;
    try {
      execFileSync('ss', ['-V'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.runIf(hasSs)('backlog: 50 by default (as eventlet), and the option is what the socket gets', () => {
    const backlogOf = (l: { address: unknown }) => {
      const port = (l.address as { port: number }).port;
      const line = execFileSync('ss', ['-ltnH', `sport = :${port}`]).toString().trim();
      expect(line).toMatch(/^LISTEN\s/);
      return Number(line.split(/\s+/)[2]);
    };
    expect(backlogOf(track(listen(['127.0.0.1', 0])))).toBe(50);
    expect(backlogOf(track(listen(['127.0.0.1', 0], { backlog: 7 })))).toBe(7);
  });

  // SO_REUSEADDR: a port whose last connection the server closed (TIME_WAIT) can be bound again.
  it.skipIf(onWindows)('reuseAddr: true by default (a port left in TIME_WAIT binds again at once); false does not', async () => {
    async function rebind(options: { reuseAddr?: boolean }): Promise<string> {
      const l = track(listen(['127.0.0.1', 0], options));
      const port = (l.address as { port: number }).port;
      const served = await serveOn(l, helloApp);
      const conn = await RawConnection.open(port);
      await conn.write(head('GET /', ['Host: localhost', 'Connection: close']));
      expect((await conn.readResponse()).text()).toBe('hello world');
      expect(await conn.waitClosed()).toBe(true); // the server closed first: its side is in TIME_WAIT
      await served.close();
      try {
        track(listen(['127.0.0.1', port], options)).close();
        return 'bound';
      } catch (err) {
        return (err as NodeJS.ErrnoException).code ?? String(err);
      }
    }
    expect(await rebind({})).toBe('bound');
    expect(await rebind({ reuseAddr: false })).toBe('EADDRINUSE');
  });

  // A socket path in a directory the process may not write. Root may write anywhere, so as root
  // the listen() runs in a child process as the user nobody (65534).
  it.skipIf(onWindows)('EACCES throws at the call, with err.code and the address in the message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferrowsgi-eacces-'));
    scratchDirs.push(dir);
    chmodSync(dir, 0o500);
    const sockPath = join(dir, 'denied.sock');
    const isRoot = process.getuid?.() === 0;
    let result: { code?: string; message?: string; bound?: true };
    if (!isRoot) {
      try {
        track(listen(sockPath));
        result = { bound: true };
      } catch (err) {
        result = { code: (err as NodeJS.ErrnoException).code, message: (err as Error).message };
      }
    } else {
      // Root may bind anywhere: the bind runs in a child as user nobody, on a copy of the built
      // package that nobody can read (the checkout itself may sit in a directory only root reads).
      const copy = mkdtempSync(join(tmpdir(), 'ferrowsgi-package-'));
      scratchDirs.push(copy);
      for (const part of ['package.json', 'dist', 'native']) cpSync(join(root, part), join(copy, part), { recursive: true });
      execFileSync('chmod', ['-R', 'a+rX', copy]);
      const index = pathToFileURL(join(copy, 'dist', 'index.js')).href;
      const child = spawn(process.execPath, ['--input-type=module', '-e', `import { listen } from ${JSON.stringify(index)};
try { listen(${JSON.stringify(sockPath)}); console.log(JSON.stringify({ bound: true })); }
catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`], { cwd: tmpdir(), uid: 65534, gid: 65534 });
      children.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
      const code = await within(new Promise<number | null>((resolve) => child.once('close', resolve)), 15000, 'the child process');
      expect(code, stderr).toBe(0);
      result = JSON.parse(stdout) as typeof result;
    }
    expect(result.code).toBe('EACCES');
    expect(result.message).toContain(sockPath);
  });
});

describe('SPEC §4 server() option defaults', () => {
  it('log: process.stderr by default (the access line goes there, nothing to stdout)', async () => {
    const child = spawnNode(
      script(`const srv = server(listen(['127.0.0.1', 0]), (env, sr) => { sr('200 OK', []); return ['logged']; });
await srv.listening;
console.log('port ' + srv.address.port);`),
    );
    await until(() => /port \d+\n/.test(child.stdout()), 15000, 'the child to listen');
    const port = Number(/port (\d+)/.exec(child.stdout())![1]);
    const conn = await RawConnection.open(port);
    await conn.write(head('GET /to-stderr?x=1', ['Host: localhost', 'Connection: close']));
    expect((await conn.readResponse()).text()).toBe('logged');
    await until(() => /\/to-stderr[^\n]*\n/.test(child.stderr()), 3000, 'the access line on stderr');
    const accessLines = child.stderr().split('\n').filter((line) => line.includes('/to-stderr'));
    expect(accessLines).toHaveLength(1);
    expect(accessLines[0]).toMatch(
      /^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4} \d{2}:\d{2}:\d{2}\] "GET \/to-stderr\?x=1 HTTP\/1\.1" 200 6 \d+\.\d{6}$/,
    );
    expect(child.stdout()).toBe(`port ${port}\n`);
  });

  it('maxSize: 1024 requests in progress by default; the 1025th waits until one ends', async () => {
    const release = deferred();
    let inApp = 0;
    let mostAtOnce = 0;
    let entered = 0;
    // A backlog that holds every client at once: no SYN is dropped while the core accepts.
    const listener = track(listen(['127.0.0.1', 0], { backlog: 1100 }));
    const served = await serveOn(listener, async (_env: Environ, sr: StartResponse) => {
      entered += 1;
      inApp += 1;
      mostAtOnce = Math.max(mostAtOnce, inApp);
      await release.promise;
      inApp -= 1;
      sr('200 OK', []);
      return ['ok'];
    });
    const total = 1025;
    const sockets: net.Socket[] = [];
    for (let i = 0; i < total; i += 100) {
      sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, total - i) }, () => connect(served.port)))));
    }
    let answered = 0;
    for (const [i, socket] of sockets.entries()) {
      socket.on('data', (b: Buffer) => {
        if (latin1(b).startsWith('HTTP/1.1 200 OK')) answered += 1;
      });
      socket.write(head(`GET /${i}`));
    }
    await until(() => inApp === 1024, 5000, '1024 requests in the app');
    await sleep(200);
    expect(entered).toBe(1024);
    expect(answered).toBe(0);
    release.resolve();
    await until(() => answered === total, 5000, 'every answer');
    expect(entered).toBe(total);
    expect(mostAtOnce).toBe(1024);
  });

  it("maxHttpVersion: 'HTTP/1.0' closes even an HTTP/1.0 client that asks for keep-alive", async () => {
    const served = await serve(helloApp, { maxHttpVersion: 'HTTP/1.0' });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /', ['Host: localhost', 'Connection: keep-alive'], 'HTTP/1.0'));
    const res = await conn.readResponse();
    expect(res.statusLine).toBe('HTTP/1.0 200 OK');
    expect(res.text()).toBe('hello world');
    expect(res.header('connection')).toBe('close');
    expect(await conn.waitClosed()).toBe(true);
  });
});

describe('SPEC §4 process lifetime: SIGINT closes an example gracefully', () => {
  it.skipIf(onWindows)('examples/wsgi.ts: Ctrl-C closes the idle keep-alive connection and exits with status 0', async () => {
    const example = spawnNode(['examples/wsgi.ts'], { env: { PORT: '0' } });
    await until(() => /listening on http:\/\/\S+:\d+/.test(example.stdout()), 15000, 'the example to listen');
    const port = Number(/listening on http:\/\/\S+:(\d+)/.exec(example.stdout())![1]);
    const conn = await RawConnection.open(port);
    await conn.write(head('GET /'));
    const res = await conn.readResponse();
    expect(res.text()).toBe('Hello, World!\r\n');
    expect(conn.closed).toBe(false);
    example.child.kill('SIGINT');
    expect(await within(example.exited, 5000, 'the example to exit')).toEqual({ code: 0, signal: null });
    expect(await conn.waitClosed(1000)).toBe(true);
  });
});

describe('SPEC §5 the application', () => {
  it('nothing is sent before the first non-empty chunk: after startResponse and an empty chunk an app still fails into a clean 500', async () => {
    const reachedEmpty = deferred();
    const fail = deferred();
    const served = await serve(
      (_env: Environ, sr: StartResponse) => {
        sr('200 OK', [['X-Never', 'sent']]);
        return (async function* () {
          yield '';
          reachedEmpty.resolve();
          await fail.promise;
          throw new Error('failed after an empty chunk');
        })();
      },
      { minimumChunkSize: 0 },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    await reachedEmpty.promise;
    expect((await conn.unreadAfter(150)).length).toBe(0);
    fail.resolve();
    const res = await conn.readResponse();
    expect(res.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(res.header('x-never')).toBeUndefined();
    expect(res.header('connection')).toBe('close');
    expect(res.text()).toContain('failed after an empty chunk');
    expect(await conn.waitClosed()).toBe(true);
  });

  it.each([
    ['an empty string', ''],
    ['an empty Uint8Array', new Uint8Array(0)],
  ])('write() of %s sends nothing either: the app still fails into a clean 500', async (_kind, empty) => {
    const served = await serve((_env: Environ, sr: StartResponse) => {
      const write = sr('200 OK', [['X-Never', 'sent']]);
      write(empty);
      throw new Error('failed after an empty write');
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    const res = await conn.readResponse();
    expect(res.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(res.header('x-never')).toBeUndefined();
    expect(res.header('connection')).toBe('close');
    expect(res.text()).toContain('failed after an empty write');
  });

  it('a body that is not a body: the 500 carries Connection: close and the connection closes', async () => {
    const served = await serve(((_env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return 42;
    }) as unknown as App);
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    const res = await conn.readResponse();
    expect(res.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(res.header('connection')).toBe('close');
    expect(await conn.waitClosed()).toBe(true);
  });
});

describe('SPEC §7 wsgi.input', () => {
  it('readline(), readlines(), async iteration and read(n) resolve to Buffers', async () => {
    let kinds: unknown;
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      const input = inputOf(env);
      const line = await input.readline();
      const part = await input.read(2);
      const lines = await input.readlines(1);
      const iterated: unknown[] = [];
      for await (const l of input) iterated.push(l);
      const end = await input.readline();
      kinds = [line, part, ...lines, ...iterated, end].map((b) => (Buffer.isBuffer(b) ? latin1(b) : typeof b));
      sr('200 OK', []);
      return ['ok'];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('POST /', ['Host: localhost', 'Content-Length: 15']) + 'one\ntwothree\nx\n');
    expect((await conn.readResponse()).text()).toBe('ok');
    expect(kinds).toEqual(['one\n', 'tw', 'othree\n', 'x\n', '']);
  });

  it.each([
    ['readline()', (input: ReturnType<typeof inputOf>) => input.readline()],
    ['readlines()', async (input: ReturnType<typeof inputOf>) => Buffer.concat(await input.readlines())],
    ['chunks()', async (input: ReturnType<typeof inputOf>) => {
      const parts: Buffer[] = [];
      for await (const chunk of input.chunks()) parts.push(chunk);
      return Buffer.concat(parts);
    }],
    ['for await', async (input: ReturnType<typeof inputOf>) => {
      const parts: Buffer[] = [];
      for await (const line of input) parts.push(line);
      return Buffer.concat(parts);
    }],
  ])('Expect: 100-continue: a first read through %s sends the interim 100 too', async (_label, readBody) => {
    const called = deferred();
    const release = deferred();
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      called.resolve();
      await release.promise;
      const body = await readBody(inputOf(env));
      sr('200 OK', [['Content-Length', String(body.length)]]);
      return [body];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('PUT /', ['Host: localhost', 'Content-Length: 6', 'Expect: 100-continue']));
    await called.promise;
    expect((await conn.unreadAfter(100)).length).toBe(0);
    release.resolve();
    const interim = await conn.readResponse();
    expect(latin1(interim.rawHead)).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    await conn.write('hello\n');
    const final = await conn.readResponse();
    expect(final.statusLine).toBe('HTTP/1.1 200 OK');
    expect(final.text()).toBe('hello\n');
  });
});

describe('SPEC §8 responses on the wire', () => {
  it.each([
    ['a Set', () => new Set(['ab', 'cd'])],
    ['a custom Iterable', () => ({ *[Symbol.iterator]() { yield 'ab'; yield 'cd'; } })],
    ['a custom AsyncIterable', () => ({ async *[Symbol.asyncIterator]() { yield 'ab'; yield 'cd'; } })],
  ])('a body that is not an array (%s) is chunked on HTTP/1.1, even a short one', async (_label, makeBody) => {
    const served = await serve((_env: Environ, sr: StartResponse) => {
      sr('200 OK', []);
      return makeBody();
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    const res = await conn.readResponse();
    expect(res.header('transfer-encoding')).toBe('chunked');
    expect(res.header('content-length')).toBeUndefined();
    expect(latin1(res.rawBody)).toBe('4\r\nabcd\r\n0\r\n\r\n');
  });

  it.each(['CLOSE', 'foo, Close'])("an app's own Connection: %s is read as a token list: the connection closes after the response", async (value) => {
    const served = await serve((_env: Environ, sr: StartResponse) => {
      sr('200 OK', [['Connection', value]]);
      return ['bye'];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    const res = await conn.readResponse();
    expect(res.text()).toBe('bye');
    expect(res.headerAll('connection').join(', ').toLowerCase()).toContain('close');
    expect(await conn.waitClosed()).toBe(true);
  });

  it('a 1xx status from the app: the head only, no body bytes, no Transfer-Encoding or Content-Length', async () => {
    const served = await serve((env: Environ, sr: StartResponse) => {
      if (env.PATH_INFO === '/after') return helloApp(env, sr);
      sr('103 Early Hints', [['Link', '</style.css>; rel=preload']]);
      return (function* () {
        yield 'not sent';
      })();
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /hints') + head('GET /after'));
    const hints = await conn.readResponse();
    expect(hints.statusLine).toBe('HTTP/1.1 103 Early Hints');
    expect(hints.header('link')).toBe('</style.css>; rel=preload');
    expect(hints.header('transfer-encoding')).toBeUndefined();
    expect(hints.header('content-length')).toBeUndefined();
    // The next bytes are the next response's status line: nothing of the body came in between.
    const next = await conn.readResponse();
    expect(next.statusLine).toBe('HTTP/1.1 200 OK');
    expect(next.text()).toBe('hello world');
    expect(latin1(conn.received)).not.toContain('not sent');
  });
});

describe('SPEC §10 the access log', () => {
  it('%(headers)s is the response headers the app gave', async () => {
    const served = await serve(
      (_env: Environ, sr: StartResponse) => {
        sr('200 OK', [['X-Custom', 'abc'], ['Content-Type', 'text/plain']]);
        return ['x'];
      },
      { logFormat: '%(request_line)s => %(headers)s' },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /h', ['Host: localhost', 'Connection: close']));
    await conn.readResponse();
    await vi.waitFor(() => expect(served.logLines().some((l) => l.startsWith('GET /h HTTP/1.1 => '))).toBe(true));
    const logged = served.logLines().find((l) => l.startsWith('GET /h HTTP/1.1 => '))!.slice('GET /h HTTP/1.1 => '.length);
    expect(logged).toContain('X-Custom');
    expect(logged).toContain('abc');
    expect(logged).toContain('Content-Type');
    expect(logged).toContain('text/plain');
    expect(logged.indexOf('X-Custom')).toBeLessThan(logged.indexOf('Content-Type'));
  });

  it('wall_seconds is the time the request took', async () => {
    const served = await serve(
      async (_env: Environ, sr: StartResponse) => {
        await sleep(300);
        sr('200 OK', []);
        return ['slow'];
      },
      { logFormat: '%(request_line)s %(wall_seconds).6f' },
    );
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /slow', ['Host: localhost', 'Connection: close']));
    await conn.readResponse();
    await vi.waitFor(() => expect(served.logLines().some((l) => l.startsWith('GET /slow HTTP/1.1 '))).toBe(true));
    const seconds = Number(/ (\d+\.\d{6})$/.exec(served.logLines().find((l) => l.startsWith('GET /slow '))!)![1]);
    expect(seconds).toBeGreaterThanOrEqual(0.29);
    expect(seconds).toBeLessThan(2);
  });
});
