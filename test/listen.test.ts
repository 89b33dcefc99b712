// SPEC §2: listen(address, options) and its use by server().
import { afterEach, describe, expect, it, vi } from 'vitest';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { listen, server } from '../ts/index.js';
import type { Environ, StartResponse } from '../ts/index.js';
import { cleanup, serveOn, track, trackServer } from './helpers/serve.js';
import { RawConnection, connect } from './helpers/raw-client.js';
import { envApp, helloApp } from './helpers/apps.js';
import { head } from './helpers/util.js';

afterEach(cleanup);

function tcpAddress(l: { address: unknown }): { host: string; port: number } {
  return l.address as { host: string; port: number };
}

async function getHello(port: number, host = '127.0.0.1'): Promise<string> {
  const res = await fetch(`http://${host}:${port}/`);
  return res.text();
}

/** Occupies a free port with a plain node:net server. */
function occupyPort(): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      resolve({ port, close: () => new Promise((r) => s.close(() => r())) });
    });
  });
}

describe('listen() addresses', () => {
  it('[host, port] binds and serves', async () => {
    const l = track(listen(['127.0.0.1', 0]));
    const addr = tcpAddress(l);
    expect(addr.host).toBe('127.0.0.1');
    const served = await serveOn(l, helloApp);
    expect(served.port).toBe(addr.port);
    expect(await getHello(addr.port)).toBe('hello world');
  });

  it('{ host, port } binds and serves', async () => {
    const l = track(listen({ host: '127.0.0.1', port: 0 }));
    const addr = tcpAddress(l);
    expect(addr.host).toBe('127.0.0.1');
    await serveOn(l, helloApp);
    expect(await getHello(addr.port)).toBe('hello world');
  });

  it('port 0 picks a real free port, reported by listener.address and server.address', async () => {
    const l = track(listen(['127.0.0.1', 0]));
    const { port } = tcpAddress(l);
    expect(Number.isInteger(port)).toBe(true);
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65536);
    const served = await serveOn(l, helloApp);
    expect((served.server.address as { port: number }).port).toBe(port);
    // the port is really listening
    const s = await connect(port);
    s.destroy();
  });

  it("'' means all interfaces (reachable on 127.0.0.1 and on 127.0.0.2)", async () => {
    const l = track(listen(['', 0]));
    const { port } = tcpAddress(l);
    expect(port).toBeGreaterThan(0);
    await serveOn(l, helloApp);
    expect(await getHello(port, '127.0.0.1')).toBe('hello world');
    // 127.0.0.2 is a loopback address that a listener bound to 127.0.0.1 alone would not answer
    expect(await getHello(port, '127.0.0.2')).toBe('hello world');
  });

  it('a listener bound to 127.0.0.1 is not reachable on 127.0.0.2 (control for the test above)', async () => {
    const l = track(listen(['127.0.0.1', 0]));
    const { port } = tcpAddress(l);
    await serveOn(l, helloApp);
    await expect(connect({ host: '127.0.0.2', port })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('accepts the backlog, reuseAddr and reusePort options', async () => {
    const l = track(listen(['127.0.0.1', 0], { backlog: 10, reuseAddr: true, reusePort: false }));
    await serveOn(l, helloApp);
    expect(await getHello(tcpAddress(l).port)).toBe('hello world');
  });

  it.each([
    [5, "listen: options must be an object, got 5"],
    ['x', 'listen: options must be an object, got x'],
    [{ backlgo: 10 }, "listen: unknown option 'backlgo'"],
    [{ backlog: -1 }, 'listen: backlog must be a non-negative integer, got -1'],
    [{ reuseAddr: 'yes' }, 'listen: reuseAddr must be a boolean, got yes'],
  ])('bad options are refused by name: %j', (options, message) => {
    expect(() => track(listen(['127.0.0.1', 0], options as never))).toThrow(message);
  });

  it('null options are the defaults', async () => {
    const l = track(listen(['127.0.0.1', 0], null));
    await serveOn(l, helloApp);
    expect(await getHello(tcpAddress(l).port)).toBe('hello world');
  });

  // SO_REUSEPORT is Unix only; Windows refuses the option (tested below).
  it.skipIf(process.platform === 'win32')('reusePort: true lets two listeners bind the same port', async () => {
    const a = track(listen(['127.0.0.1', 0], { reusePort: true }));
    const { port } = tcpAddress(a);
    const b = track(listen(['127.0.0.1', port], { reusePort: true }));
    expect(tcpAddress(b).port).toBe(port);
  });

  it('listener.close() frees the port', async () => {
    const l = listen(['127.0.0.1', 0]);
    const { port } = tcpAddress(l);
    l.close();
    await expect(connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // and it can be bound again
    const again = track(listen(['127.0.0.1', port]));
    expect(tcpAddress(again).port).toBe(port);
  });
});

// Windows has no Unix domain sockets for the core to serve (tested below).
describe.skipIf(process.platform === 'win32')('listen() on a Unix domain socket', () => {
  it('serves over a socket path; REMOTE_ADDR/SERVER_NAME are "unix", ports are ""', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferrowsgi-'));
    const sockPath = path.join(dir, 'srv.sock');
    try {
      const l = track(listen(sockPath));
      expect(l.address).toEqual({ path: sockPath });
      const served = await serveOn(l, envApp);
      expect(served.server.address).toEqual({ path: sockPath });
      const conn = await RawConnection.open({ path: sockPath });
      await conn.write(head('GET /unix', ['Host: localhost', 'Connection: close']));
      const res = await conn.readResponse();
      expect(res.status).toBe(200);
      const env = JSON.parse(res.text());
      expect(env.REMOTE_ADDR).toBe('unix');
      expect(env.REMOTE_PORT).toBe('');
      expect(env.SERVER_NAME).toBe('unix');
      expect(env.SERVER_PORT).toBe('');
      expect(env.PATH_INFO).toBe('/unix');
      await served.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the access log line of a Unix-socket request starts with "unix - -" (eventlet test_log_unix_address)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferrowsgi-'));
    const sockPath = path.join(dir, 'srv.sock');
    try {
      const served = await serveOn(track(listen(sockPath)), helloApp);
      const conn = await RawConnection.open({ path: sockPath });
      await conn.write(head('GET /u', ['Host: localhost', 'Connection: close']));
      await conn.readResponse();
      await vi.waitFor(() => {
        expect(served.logLines().some((l) => /^unix - - \[.*\] "GET \/u HTTP\/1\.1" 200 /.test(l))).toBe(true);
      });
      await served.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Runs on Windows CI only: what Windows lacks fails at the call, saying so.
describe.runIf(process.platform === 'win32')('listen() on Windows', () => {
  it('a socket path throws EAFNOSUPPORT: Unix domain sockets are not supported', () => {
    const sockPath = path.join(os.tmpdir(), 'ferrowsgi-windows.sock');
    expect(() => track(listen(sockPath))).toThrow(
      expect.objectContaining({ code: 'EAFNOSUPPORT', message: expect.stringContaining('Unix domain sockets are not supported on Windows') }),
    );
  });

  it('reusePort: true throws ENOTSUP, naming the address', () => {
    expect(() => track(listen(['127.0.0.1', 0], { reusePort: true }))).toThrow(
      expect.objectContaining({ code: 'ENOTSUP', message: expect.stringMatching(/reusePort is not supported on Windows 127\.0\.0\.1:0/) }),
    );
  });
});

describe('listen() errors', () => {
  it('EADDRINUSE throws at the call, with err.code and the address in the message', async () => {
    const busy = await occupyPort();
    try {
      let caught: unknown;
      try {
        track(listen(['127.0.0.1', busy.port]));
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(Error);
      const err = caught as NodeJS.ErrnoException;
      expect(err.code).toBe('EADDRINUSE');
      expect(err.message).toContain(String(busy.port));
      expect(err.message).toContain('127.0.0.1');
    } finally {
      await busy.close();
    }
  });

  it('EADDRINUSE also for a port held by another ferrowsgi listener (reuseAddr does not share a bound port)', () => {
    const a = track(listen(['127.0.0.1', 0]));
    const { port } = tcpAddress(a);
    expect(() => track(listen({ host: '127.0.0.1', port }))).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE', message: expect.stringContaining(String(port)) }),
    );
  });
});

describe('server() and the state of its listener', () => {
  const app = (_env: Environ, startResponse: StartResponse) => {
    startResponse('200 OK', []);
    return ['x'];
  };

  it('a closed listener given to server() throws', () => {
    const l = listen(['127.0.0.1', 0]);
    l.close();
    expect(() => trackServer(server(l, app))).toThrow(/listener.*closed/i);
  });

  it('an already-served listener given to server() throws, and the first server keeps serving', async () => {
    const l = track(listen(['127.0.0.1', 0]));
    const served = await serveOn(l, helloApp);
    expect(() => trackServer(server(l, app))).toThrow(/listener.*served/i);
    expect(await getHello(served.port)).toBe('hello world');
  });
});
