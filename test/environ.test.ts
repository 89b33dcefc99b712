// SPEC §6: the environ. The app serialises what it sees as JSON in the body.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Environ, StartResponse } from '../ts/index.js';
import { cleanup, serve, type ServerOptions } from './helpers/serve.js';
import { RawConnection } from './helpers/raw-client.js';
import { envApp, envGet, inputOf } from './helpers/apps.js';
import { head } from './helpers/util.js';

afterEach(cleanup);

type Env = Record<string, unknown>;

/** Sends one raw request to an envApp server and returns the environ it saw. */
async function envFor(
  request: string,
  options: ServerOptions = {},
): Promise<{ env: Env; port: number; clientPort: number }> {
  const served = await serve(envApp, options);
  const conn = await RawConnection.open(served.port);
  await conn.write(request);
  const res = await conn.readResponse();
  expect(res.status).toBe(200);
  const env = JSON.parse(res.text()) as Env;
  return { env, port: served.port, clientPort: conn.localPort };
}

describe('CGI keys', () => {
  it('a plain GET: every CGI key with its value', async () => {
    const { env, port, clientPort } = await envFor(
      head('GET /env/path?a=1&b=%20', ['Host: localhost', 'User-Agent: raw-test']),
    );
    expect(env.REQUEST_METHOD).toBe('GET');
    expect(env.SCRIPT_NAME).toBe('');
    expect(env.PATH_INFO).toBe('/env/path');
    expect(env.RAW_PATH_INFO).toBe('/env/path');
    expect(env.QUERY_STRING).toBe('a=1&b=%20');
    expect(env.CONTENT_TYPE).toBe('text/plain');
    expect('CONTENT_LENGTH' in env).toBe(false);
    expect(env.SERVER_NAME).toBe('127.0.0.1');
    expect(env.SERVER_PORT).toBe(String(port));
    expect(env.SERVER_PROTOCOL).toBe('HTTP/1.1');
    expect(env.REMOTE_ADDR).toBe('127.0.0.1');
    expect(env.REMOTE_PORT).toBe(String(clientPort));
    expect(env.GATEWAY_INTERFACE).toBe('CGI/1.1');
    expect(env.HTTP_HOST).toBe('localhost');
    expect(env.HTTP_USER_AGENT).toBe('raw-test');
  });

  it('REQUEST_METHOD is the method token as sent', async () => {
    const { env } = await envFor(head('PURGE /x'));
    expect(env.REQUEST_METHOD).toBe('PURGE');
  });

  it("SERVER_PROTOCOL is the request's version: HTTP/1.0 (SPEC §12: eventlet always says HTTP/1.0)", async () => {
    const { env } = await envFor(head('GET /', ['Host: localhost'], 'HTTP/1.0'));
    expect(env.SERVER_PROTOCOL).toBe('HTTP/1.0');
  });

  it("QUERY_STRING is '' when the target has no '?' (SPEC §6; eventlet leaves the key out)", async () => {
    const { env } = await envFor(head('GET /no-query'));
    expect(env.QUERY_STRING).toBe('');
  });

  it("QUERY_STRING is '' for a bare '?', and raw after the first '?'", async () => {
    const a = await envFor(head('GET /p?'));
    expect(a.env.QUERY_STRING).toBe('');
    expect(a.env.PATH_INFO).toBe('/p');
    const b = await envFor(head('GET /p?x=%41?y=2+3'));
    expect(b.env.QUERY_STRING).toBe('x=%41?y=2+3');
    expect(b.env.RAW_PATH_INFO).toBe('/p');
  });

  it('PATH_INFO is percent-decoded, RAW_PATH_INFO as received (eventlet test_path_info_decoding)', async () => {
    const { env } = await envFor(head('GET /a*b@%40%233'));
    expect(env.PATH_INFO).toBe('/a*b@@#3');
    expect(env.RAW_PATH_INFO).toBe('/a*b@%40%233');
  });

  it("PATH_INFO is decoded as latin-1: '+' kept, malformed '%zz' kept (eventlet test_path_info_latin1)", async () => {
    const { env } = await envFor(head('GET /env/%E4%BD%a0+%zz'));
    expect(env.PATH_INFO).toBe('/env/\xe4\xbd\xa0+%zz');
    expect(env.RAW_PATH_INFO).toBe('/env/%E4%BD%a0+%zz');
  });

  it('PATH_INFO: UTF-8 octets become one latin-1 char each; %2F becomes /', async () => {
    const { env } = await envFor(head('GET /%E4%BD%A0%E5%A5%BD/a%2Fb'));
    expect(env.PATH_INFO).toBe('/\xe4\xbd\xa0\xe5\xa5\xbd/a/b');
  });

  it('CONTENT_TYPE and CONTENT_LENGTH come from the request, without HTTP_ copies', async () => {
    const { env } = await envFor(
      'POST /form HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
    );
    expect(env.REQUEST_METHOD).toBe('POST');
    expect(env.CONTENT_TYPE).toBe('application/json');
    expect(env.CONTENT_LENGTH).toBe('2');
    expect('HTTP_CONTENT_TYPE' in env).toBe(false);
    expect('HTTP_CONTENT_LENGTH' in env).toBe(false);
  });

  it('CONTENT_LENGTH is the one number of a list of equal ones (Content-Length: 3, 3)', async () => {
    const { env } = await envFor('POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3, 3\r\n\r\nabc');
    expect(env.CONTENT_LENGTH).toBe('3');
  });

  it('CONTENT_LENGTH is present for Content-Length: 0', async () => {
    const { env } = await envFor('POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n');
    expect(env.CONTENT_LENGTH).toBe('0');
  });

  it('CONTENT_LENGTH is absent for a chunked body', async () => {
    const { env } = await envFor(
      'POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n',
    );
    expect('CONTENT_LENGTH' in env).toBe(false);
    expect(env.HTTP_TRANSFER_ENCODING).toBe('chunked');
  });
});

describe('HTTP_* keys and headers_raw', () => {
  it('names are upper-cased with - → _; repeated headers are joined with ","', async () => {
    const { env } = await envFor(
      head('GET /', ['Host: localhost', 'X-A: 1', 'x-a: 2', 'X-Multi-Word-Name: v', 'Accept: text/html']),
    );
    expect(env.HTTP_X_A).toBe('1,2');
    expect(env.HTTP_X_MULTI_WORD_NAME).toBe('v');
    expect(env.HTTP_ACCEPT).toBe('text/html');
  });

  it('a header name holding "_" is dropped from HTTP_* but kept in headers_raw (eventlet test_env_headers)', async () => {
    const { env } = await envFor(
      head('GET /', ['Host: localhost', 'path-info: foo', 'x-ANY_k: one', 'http-x-ANY_k: two']),
    );
    const httpKeys = Object.keys(env)
      .filter((k) => k.startsWith('HTTP_'))
      .sort();
    expect(httpKeys).toEqual(['HTTP_HOST', 'HTTP_PATH_INFO']);
    expect(env.HTTP_PATH_INFO).toBe('foo');
    expect(env.headers_raw).toEqual([
      ['Host', 'localhost'],
      ['path-info', 'foo'],
      ['x-ANY_k', 'one'],
      ['http-x-ANY_k', 'two'],
    ]);
  });

  it('headers_raw keeps every header in arrival order, names verbatim (eventlet test_headers_raw)', async () => {
    const { env } = await envFor(head('GET /', ['Host: localhost', 'x-ANY_k: one', 'x-ANY_k: two', 'X-Case: A']));
    expect(env.headers_raw).toEqual([
      ['Host', 'localhost'],
      ['x-ANY_k', 'one'],
      ['x-ANY_k', 'two'],
      ['X-Case', 'A'],
    ]);
  });

  it('an underscore header cannot spoof its dash twin', async () => {
    const { env } = await envFor(head('GET /', ['Host: localhost', 'X-User: real', 'X_User: spoofed']));
    expect(env.HTTP_X_USER).toBe('real');
  });

  it('values are stripped of surrounding spaces and tabs only (eventlet test_env_header_stripping)', async () => {
    const { env } = await envFor(head('GET /', ['Host: localhost', 'spaced:   o   u   t   ', 'tabbed: x\t']));
    expect(env.HTTP_SPACED).toBe('o   u   t');
    expect(env.HTTP_TABBED).toBe('x');
  });
});

describe('wsgi.* and eventlet.* keys', () => {
  it('fixed values of the WSGI keys', async () => {
    const { env } = await envFor(head('GET /'));
    expect(env['wsgi.version']).toEqual([1, 0]);
    expect(env['wsgi.url_scheme']).toBe('http');
    expect(env['wsgi.multithread']).toBe(true);
    expect(env['wsgi.multiprocess']).toBe(false);
    expect(env['wsgi.run_once']).toBe(false);
    expect(env['wsgi.input_terminated']).toBe(true);
    expect(env['wsgi.input']).toBe('[object]');
    expect(env['eventlet.input']).toBe('[object]');
    expect(env['wsgi.errors']).toBe('[object]');
    expect(env['eventlet.posthooks']).toEqual([]);
  });

  it('wsgi.input is the same object as eventlet.input, with the SPEC §7 methods', async () => {
    let seen: Record<string, unknown> = {};
    const served = await serve((env: Environ, sr: StartResponse) => {
      const input = inputOf(env) as unknown as Record<string, unknown>;
      seen = {
        same: envGet(env, 'wsgi.input') === envGet(env, 'eventlet.input'),
        methods: [
          'read',
          'readline',
          'readlines',
          'chunks',
          'discard',
          'setHundredContinueResponseHeaders',
          'sendHundredContinueResponse',
          'set_hundred_continue_response_headers',
          'send_hundred_continue_response',
        ].filter((m) => typeof input[m] !== 'function'),
        asyncIterable: typeof input[Symbol.asyncIterator as unknown as string] === 'function',
      };
      sr('200 OK', []);
      return ['ok'];
    });
    const res = await fetch(`http://127.0.0.1:${served.port}/`);
    expect(await res.text()).toBe('ok');
    expect(seen).toEqual({ same: true, methods: [], asyncIterable: true });
  });

  it('wsgi.errors is writable and its text reaches the log', async () => {
    const served = await serve((env: Environ, sr: StartResponse) => {
      const errors = envGet(env, 'wsgi.errors') as { write: (s: string) => unknown };
      errors.write('message from the app via wsgi.errors\n');
      sr('200 OK', []);
      return ['ok'];
    });
    const res = await fetch(`http://127.0.0.1:${served.port}/`);
    expect(await res.text()).toBe('ok');
    await vi.waitFor(() => expect(served.logText()).toContain('message from the app via wsgi.errors'));
  });

  it('eventlet.posthooks is a fresh empty array for every request', async () => {
    const arrays: unknown[] = [];
    const lengths: number[] = [];
    const served = await serve((env: Environ, sr: StartResponse) => {
      const hooks = env['eventlet.posthooks'];
      arrays.push(hooks);
      lengths.push(hooks.length);
      hooks.push([() => {}, [], {}]);
      sr('200 OK', []);
      return ['ok'];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /1'));
    await conn.readResponse();
    await conn.write(head('GET /2'));
    await conn.readResponse();
    expect(lengths).toEqual([0, 0]);
    expect(Array.isArray(arrays[0])).toBe(true);
    expect(arrays[0]).not.toBe(arrays[1]);
  });

  it('the environ option is merged into every request', async () => {
    const served = await serve(envAppWrapped, { environ: { 'my.key': 'my value', 'my.num': 3 } });
    for (const path of ['/1', '/2']) {
      const env = JSON.parse(await (await fetch(`http://127.0.0.1:${served.port}${path}`)).text()) as Env;
      expect(env['my.key']).toBe('my value');
      expect(env['my.num']).toBe(3);
      expect(env.PATH_INFO).toBe(path);
    }
  });

  it('each request gets its own environ object (changes do not leak)', async () => {
    const served = await serve((env: Environ, sr: StartResponse) => {
      const before = envGet(env, 'app.mark');
      (env as unknown as Record<string, unknown>)['app.mark'] = 'set';
      sr('200 OK', []);
      return [String(before)];
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /1'));
    expect((await conn.readResponse()).text()).toBe('undefined');
    await conn.write(head('GET /2'));
    expect((await conn.readResponse()).text()).toBe('undefined');
  });
});

function envAppWrapped(env: Environ, sr: StartResponse) {
  return envApp(env, sr);
}
