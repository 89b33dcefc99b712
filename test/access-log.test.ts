// SPEC §10: the access log.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Writable } from 'node:stream';
import { listen, server, type Environ, type StartResponse } from '../ts/index.js';
import { cleanup, serve, track, trackServer, type Served } from './helpers/serve.js';
import { RawConnection } from './helpers/raw-client.js';
import { head } from './helpers/util.js';

afterEach(cleanup);

function app(env: Environ, sr: StartResponse) {
  const path = String(env['PATH_INFO']);
  if (path === '/stream') {
    sr('200 OK', []);
    return (function* () {
      yield 'abc';
      yield 'defg';
    })();
  }
  if (path === '/missing') {
    sr('404 Not Found', []);
    return ['nope'];
  }
  sr('200 OK', [['Content-Type', 'text/plain']]);
  return ['hello world'];
}

/** One request with Connection: close; waits until an access line for it is logged. */
async function hit(served: Served, request: string) {
  const conn = await RawConnection.open(served.port);
  await conn.write(request);
  await conn.readResponse({ method: request.split(' ')[0] });
  await conn.waitClosed(3000);
}

function accessLines(served: Served): string[] {
  return served.logLines().filter((l) => / HTTP\/1\.[01]"? /.test(l) || /^HI /.test(l));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

describe('the default format (eventlet DEFAULT_LOG_FORMAT)', () => {
  it('byte-for-byte shape of a line', async () => {
    const served = await serve(app);
    await hit(served, head('GET /path', ['Host: localhost', 'Connection: close']));
    await vi.waitFor(() => expect(accessLines(served).length).toBe(1));
    const line = accessLines(served)[0]!;
    expect(line).toMatch(
      /^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4} \d{2}:\d{2}:\d{2}\] "GET \/path HTTP\/1\.1" 200 11 \d+\.\d{6}$/,
    );
  });

  it('date_time is the local time of the request', async () => {
    const served = await serve(app);
    const before = Date.now();
    await hit(served, head('GET /when', ['Host: localhost', 'Connection: close']));
    await vi.waitFor(() => expect(accessLines(served).length).toBe(1));
    const m = /\[(\d{2})\/([A-Z][a-z]{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})\]/.exec(accessLines(served)[0]!)!;
    expect(m).not.toBeNull();
    const month = MONTHS.indexOf(m[2]!);
    expect(month).toBeGreaterThanOrEqual(0);
    const logged = new Date(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])).getTime();
    // local time, to the second: within a few seconds of when we sent it
    expect(Math.abs(logged - before)).toBeLessThan(5000);
  });

  it('one line per response on a keep-alive connection, with each status', async () => {
    const served = await serve(app);
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /a') + head('GET /missing') + head('GET /b', ['Host: localhost', 'Connection: close']));
    for (let i = 0; i < 3; i++) await conn.readResponse();
    await vi.waitFor(() => expect(accessLines(served).length).toBe(3));
    const lines = accessLines(served);
    expect(lines[0]).toContain('"GET /a HTTP/1.1" 200 11 ');
    expect(lines[1]).toContain('"GET /missing HTTP/1.1" 404 4 ');
    expect(lines[2]).toContain('"GET /b HTTP/1.1" 200 11 ');
  });

  it('the request line is logged as received, with the query string', async () => {
    const served = await serve(app);
    await hit(served, head('GET /q?x=1&y=%20', ['Host: localhost', 'Connection: close'], 'HTTP/1.0'));
    await vi.waitFor(() => expect(accessLines(served).length).toBe(1));
    expect(accessLines(served)[0]).toContain('"GET /q?x=1&y=%20 HTTP/1.0" 200 11 ');
  });
});

describe('body_length counts body bytes only (SPEC §12: eventlet counts the head too)', () => {
  it('a chunked body counts its data, not the framing', async () => {
    const served = await serve(app);
    await hit(served, head('GET /stream', ['Host: localhost', 'Connection: close']));
    await vi.waitFor(() => expect(accessLines(served).length).toBe(1));
    expect(accessLines(served)[0]).toMatch(/"GET \/stream HTTP\/1\.1" 200 7 \d+\.\d{6}$/);
  });

  it('a HEAD response counts 0', async () => {
    const served = await serve(app);
    await hit(served, head('HEAD /path', ['Host: localhost', 'Connection: close']));
    await vi.waitFor(() => expect(accessLines(served).length).toBe(1));
    expect(accessLines(served)[0]).toMatch(/"HEAD \/path HTTP\/1\.1" 200 0 \d+\.\d{6}$/);
  });
});

describe('logFormat', () => {
  it('"HI %(request_line)s HI" (eventlet test_026_log_format)', async () => {
    const served = await serve(app, { logFormat: 'HI %(request_line)s HI' });
    await hit(served, head('GET /yo!', ['Host: localhost', 'Connection: close']));
    await vi.waitFor(() => expect(served.logLines()).toContain('HI GET /yo! HTTP/1.1 HI'));
  });

  it('the other keys: status_code, body_length, client_ip, wall_seconds', async () => {
    const served = await serve(app, {
      logFormat: '%(status_code)s|%(body_length)s|%(client_ip)s|%(wall_seconds).6f',
    });
    await hit(served, head('GET /missing', ['Host: localhost', 'Connection: close']));
    await vi.waitFor(() => expect(served.logLines().some((l) => l.startsWith('404|'))).toBe(true));
    const line = served.logLines().find((l) => l.startsWith('404|'))!;
    expect(line).toMatch(/^404\|4\|127\.0\.0\.1\|\d+\.\d{6}$/);
  });

  it.each([
    ['%(body_length)5d', '%(body_length)5d'],
    ['%(client_ip)-20s', '%(client_ip)-20s'],
    ['a 100% line', '% l'],
    ['%(status_code', '%(status_code'],
  ])('%j is refused when the server starts, naming the placeholder %j', (logFormat, placeholder) => {
    expect(() => trackServer(server(track(listen(['127.0.0.1', 0])), app, { logFormat }))).toThrow(
      `server: logFormat has an unsupported placeholder ${JSON.stringify(placeholder)} `,
    );
  });
});

describe('logOutput', () => {
  it('false: no access lines', async () => {
    const served = await serve(app, { logOutput: false });
    await hit(served, head('GET /path', ['Host: localhost', 'Connection: close']));
    await hit(served, head('GET /other', ['Host: localhost', 'Connection: close']));
    // control: the same requests produce lines when logOutput is on
    const control = await serve(app);
    await hit(control, head('GET /path', ['Host: localhost', 'Connection: close']));
    await vi.waitFor(() => expect(accessLines(control).length).toBe(1));
    expect(served.logLines().filter((l) => l.includes('GET /path') || l.includes('GET /other'))).toEqual([]);
  });

  it('false: app errors are still logged', async () => {
    const served = await serve(
      () => {
        throw new Error('logged even without access lines');
      },
      { logOutput: false },
    );
    await hit(served, head('GET /crash', ['Host: localhost', 'Connection: close']));
    await vi.waitFor(() => expect(served.logText()).toContain('logged even without access lines'));
    expect(served.logLines().some((l) => l.includes('"GET /crash HTTP/1.1" 500'))).toBe(false);
  });
});

describe('logXForwardedFor (eventlet test_020_x_forwarded_for)', () => {
  const request = head('GET /', ['Host: localhost', 'X-Forwarded-For: 1.2.3.4, 5.6.7.8', 'Connection: close']);

  it('on (default): client_ip is the X-Forwarded-For list without spaces, then the peer', async () => {
    const served = await serve(app);
    await hit(served, request);
    await vi.waitFor(() => expect(accessLines(served).length).toBe(1));
    expect(accessLines(served)[0]).toMatch(/^1\.2\.3\.4,5\.6\.7\.8,127\.0\.0\.1 - - \[/);
  });

  it('off: client_ip is the peer only', async () => {
    const served = await serve(app, { logXForwardedFor: false });
    await hit(served, request);
    await vi.waitFor(() => expect(accessLines(served).length).toBe(1));
    const line = accessLines(served)[0]!;
    expect(line).toMatch(/^127\.0\.0\.1 - - \[/);
    expect(line).not.toContain('1.2.3.4');
    expect(line).not.toContain('5.6.7.8');
  });

  it('on, without the header: the peer only', async () => {
    const served = await serve(app);
    await hit(served, head('GET /', ['Host: localhost', 'Connection: close']));
    await vi.waitFor(() => expect(accessLines(served).length).toBe(1));
    expect(accessLines(served)[0]).toMatch(/^127\.0\.0\.1 - - \[/);
  });
});

describe('the log option', () => {
  it('a writable stream receives newline-terminated lines', async () => {
    const written: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer | string, _enc, callback) {
        written.push(chunk.toString());
        callback();
      },
    });
    const served = await serve(app, { log: stream });
    await hit(served, head('GET /streamed-log', ['Host: localhost', 'Connection: close']));
    await vi.waitFor(() => expect(written.join('')).toContain('"GET /streamed-log HTTP/1.1" 200 11 '));
    const text = written.join('');
    expect(text).toMatch(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/streamed-log HTTP\/1\.1" 200 11 \d+\.\d{6}\n/m);
  });

  it('a function is called once per line, with the line', async () => {
    const calls: string[] = [];
    const served = await serve(app, { log: (line: string) => void calls.push(line) });
    await hit(served, head('GET /fn-1', ['Host: localhost', 'Connection: close']));
    await hit(served, head('GET /fn-2', ['Host: localhost', 'Connection: close']));
    await vi.waitFor(() => expect(calls.filter((c) => c.includes('GET /fn-')).length).toBe(2));
    const lines = calls.filter((c) => c.includes('GET /fn-')).map((c) => c.replace(/\n$/, ''));
    expect(lines[0]).toMatch(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/fn-1 HTTP\/1\.1" 200 11 \d+\.\d{6}$/);
    expect(lines[1]).toMatch(/"GET \/fn-2 HTTP\/1\.1" 200 11 /);
  });

  it.each([
    ['function', (): void => {
      throw new Error('the log broke');
    }],
    ['stream', {
      write(): never {
        throw new Error('the log broke');
      },
    }],
  ])('a %s that throws loses its lines, not the server (SPEC §9): requests go on, one warning', async (_kind, log) => {
    const warnings: Array<Error & { code?: string }> = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const served = await serve((env: Environ, sr: StartResponse) => {
        env['wsgi.errors'].write('a line from the app\n');
        sr('200 OK', []);
        return ['ok'];
      }, { log });
      for (const path of ['/a', '/b', '/c']) {
        const res = await fetch(`http://127.0.0.1:${served.port}${path}`);
        expect(await res.text()).toBe('ok');
      }
      await vi.waitFor(() => expect(warnings.map((w) => w.code)).toEqual(['FERROWSGI_LOG_FAILED']));
      expect(warnings[0]!.message).toContain('the log broke');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
