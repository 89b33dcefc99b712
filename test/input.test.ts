// SPEC §7 (issue 3): wsgi.input — reads, framing, malformed chunks, discarding unread bodies.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import type { Environ, StartResponse } from '../ts/index.js';
import { cleanup, serve, type ServerOptions } from './helpers/serve.js';
import { RawConnection } from './helpers/raw-client.js';
import { envGet, inputOf } from './helpers/apps.js';
import { deferred, gc, head, sleep } from './helpers/util.js';

afterEach(cleanup);

type Input = ReturnType<typeof inputOf>;
type Handler = (input: Input, env: Environ) => Promise<unknown>;

/**
 * Serves `handler`: it gets the request's input, and what it returns is the response body
 * (a Buffer or string as is, anything else as JSON), sent with a Content-Length.
 * `/ping` answers `pong` without touching the body. Every PATH_INFO seen is recorded.
 */
async function serveInput(handler: Handler, options: ServerOptions = {}) {
  const paths: string[] = [];
  const errors: unknown[] = [];
  const served = await serve(async (env: Environ, sr: StartResponse) => {
    const path = String(envGet(env, 'PATH_INFO'));
    paths.push(path);
    if (path === '/ping') {
      sr('200 OK', [['Content-Length', '4']]);
      return ['pong'];
    }
    let result: unknown;
    try {
      result = await handler(inputOf(env), env);
    } catch (err) {
      errors.push(err);
      result = `error: ${(err as Error)?.message}`;
    }
    const body = Buffer.isBuffer(result) || typeof result === 'string' ? Buffer.from(result) : Buffer.from(JSON.stringify(result));
    sr('200 OK', [['Content-Length', String(body.length)]]);
    return [body];
  }, options);
  return { ...served, paths, errors };
}

const s = (b: Buffer) => b.toString('latin1');

function post(path: string, body: string, extra: string[] = [], method = 'POST') {
  return `${method} ${path} HTTP/1.1\r\nHost: localhost\r\n${extra.map((h) => h + '\r\n').join('')}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

function chunkedHead(path: string, extra: string[] = [], method = 'POST', version = 'HTTP/1.1') {
  return `${method} ${path} ${version}\r\nHost: localhost\r\n${extra.map((h) => h + '\r\n').join('')}Transfer-Encoding: chunked\r\n\r\n`;
}

async function expectServing(port: number) {
  const res = await fetch(`http://127.0.0.1:${port}/ping`);
  expect(await res.text()).toBe('pong');
}

async function ask(port: number, request: string | Buffer) {
  const conn = await RawConnection.open(port);
  await conn.write(request);
  const res = await conn.readResponse();
  return { res, conn };
}

describe('read()', () => {
  it('read() returns the whole body; a read past the end resolves an empty Buffer', async () => {
    const served = await serveInput(async (input) => {
      const first = await input.read();
      const second = await input.read();
      const third = await input.read(10);
      return {
        first: s(first),
        second: second.length,
        third: third.length,
        buffers: [first, second, third].every((b) => Buffer.isBuffer(b)),
      };
    });
    const { res } = await ask(served.port, post('/', 'hello world'));
    expect(JSON.parse(res.text())).toEqual({ first: 'hello world', second: 0, third: 0, buffers: true });
  });

  it('read(n) returns n bytes at a time, then the rest, then empty', async () => {
    const served = await serveInput(async (input) => [s(await input.read(5)), s(await input.read(100)), s(await input.read(1))]);
    const { res } = await ask(served.port, post('/', 'hello world'));
    expect(JSON.parse(res.text())).toEqual(['hello', ' world', '']);
  });

  it('read(n) waits for n bytes when the body arrives in pieces (file semantics, as eventlet)', async () => {
    const served = await serveInput(async (input) => s(await input.read(11)));
    const conn = await RawConnection.open(served.port);
    await conn.write('POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\n\r\nhel');
    await sleep(100);
    await conn.write('lo ');
    await sleep(100);
    await conn.write('world');
    expect((await conn.readResponse()).text()).toBe('hello world');
  });

  it('read() of a body sent slowly in pieces returns all of it', async () => {
    const served = await serveInput(async (input) => s(await input.read()));
    const conn = await RawConnection.open(served.port);
    await conn.write('POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 14\r\n\r\nslow');
    for (const piece of ['ly ', 'sent ', 'it']) {
      await sleep(50);
      await conn.write(piece);
    }
    expect((await conn.readResponse()).text()).toBe('slowly sent it');
  });

  it('a 1 MiB Content-Length body arrives intact', async () => {
    const big = Buffer.alloc(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
    const served = await serveInput(async (input) => {
      const body = await input.read();
      return { length: body.length, sha: createHash('sha256').update(body).digest('hex') };
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(Buffer.concat([Buffer.from(`PUT /big HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${big.length}\r\n\r\n`), big]));
    const res = await conn.readResponse({ timeoutMs: 10000 });
    expect(JSON.parse(res.text())).toEqual({ length: big.length, sha: createHash('sha256').update(big).digest('hex') });
  });

  it('a size or hint that is not a number rejects with an error that names it; the body is still readable', async () => {
    const served = await serveInput(async (input) => {
      const messages: string[] = [];
      for (const call of [() => input.read('x' as never), () => input.readline({} as never), () => input.readlines(NaN)]) {
        await call().catch((err: Error) => messages.push(err.message));
      }
      return { messages, body: s(await input.read()) };
    });
    const { res } = await ask(served.port, post('/', 'still here'));
    expect(JSON.parse(res.text())).toEqual({
      messages: [
        'wsgi.input.read: size must be a number, null or undefined, got "x"',
        'wsgi.input.readline: size must be a number, null or undefined, got [object Object]',
        'wsgi.input.readlines: hint must be a number, null or undefined, got NaN',
      ],
      body: 'still here',
    });
  });

  it('keeps nothing it returned: a body the app dropped is collected while its response still streams', async () => {
    let returned: WeakRef<Buffer> | undefined;
    const bodyRead = deferred();
    const finish = deferred();
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      returned = new WeakRef(await inputOf(env).read());
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        bodyRead.resolve();
        await finish.promise;
        yield 'done';
      })();
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(post('/', 'x'.repeat(100_000)));
    await bodyRead.promise;
    // A WeakRef keeps its target until the job that made it ends.
    await sleep(0);
    gc();
    const collected = returned!.deref() === undefined;
    finish.resolve();
    expect((await conn.readResponse()).text()).toBe('done');
    expect(collected).toBe(true);
  });
});

// Bodies larger than what one socket read or one DATA event carries, arriving in pieces of every
// size: the core's direct reads, its input buffer and JS's own buffering all take part.
describe('large Content-Length bodies', () => {
  const patterned = (length: number) => {
    const body = Buffer.alloc(length);
    for (let i = 0; i < body.length; i++) body[i] = (i * 131 + 17) & 0xff;
    return body;
  };
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  async function sendInPieces(port: number, body: Buffer, pieces: number[]) {
    const conn = await RawConnection.open(port);
    await conn.write(`POST /big HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n`);
    let at = 0;
    for (let i = 0; at < body.length; i++) {
      const size = pieces[i % pieces.length]!;
      await conn.write(body.subarray(at, at + size));
      at += size;
      if (i % 4 === 0) await sleep(2);
    }
    return conn;
  }

  it('read(n) in 20000-byte steps of a 300000-byte body sent in odd-sized pieces', async () => {
    const body = patterned(300_000);
    const served = await serveInput(async (input) => {
      const parts: Buffer[] = [];
      for (;;) {
        const part = await input.read(20_000);
        if (part.length === 0) break;
        parts.push(part);
      }
      return { sizes: [...new Set(parts.map((p) => p.length))], sha: sha(Buffer.concat(parts)) };
    });
    const conn = await sendInPieces(served.port, body, [7_001, 40_000, 1, 65_536, 12_345]);
    const res = await conn.readResponse({ timeoutMs: 10000 });
    expect(JSON.parse(res.text())).toEqual({ sizes: [20_000], sha: sha(body) });
  });

  it('read() of a 2 MiB body sent in 3000-byte pieces is whole, and the connection serves again', async () => {
    const body = patterned(2 << 20);
    const served = await serveInput(async (input) => {
      const all = await input.read();
      return { length: all.length, sha: sha(all) };
    });
    const conn = await sendInPieces(served.port, body, [3000]);
    const res = await conn.readResponse({ timeoutMs: 20000 });
    expect(JSON.parse(res.text())).toEqual({ length: body.length, sha: sha(body) });
    await conn.write('GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect((await conn.readResponse()).text()).toBe('pong');
  });

  it('chunks() of a body sent in small pieces: each chunk holds little more memory than its bytes', async () => {
    const body = patterned(200_000);
    const served = await serveInput(async (input) => {
      const chunks: Buffer[] = [];
      for await (const chunk of input.chunks()) chunks.push(chunk);
      // A chunk must not keep a much larger allocation alive; small ones may share Node's 8 KiB pool.
      const wasteful = chunks.filter((c) => c.buffer.byteLength > Math.max(2 * c.length, 8192));
      return { count: chunks.length > 1, wasteful: wasteful.length, sha: sha(Buffer.concat(chunks)) };
    });
    const conn = await sendInPieces(served.port, body, [1000, 5000]);
    const res = await conn.readResponse({ timeoutMs: 10000 });
    expect(JSON.parse(res.text())).toEqual({ count: true, wasteful: 0, sha: sha(body) });
  });

  it('a client that leaves during a large read: the read rejects and the server keeps serving', async () => {
    const served = await serveInput(async (input) => input.read());
    const conn = await RawConnection.open(served.port);
    await conn.write(`POST /cut HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${1 << 20}\r\n\r\n`);
    await conn.write(patterned(100_000));
    await sleep(50);
    conn.destroy();
    await vi.waitFor(() => expect(served.errors.length).toBe(1), { timeout: 5000 });
    await expectServing(served.port);
  });
});

describe('readline(), readlines(), async iteration, chunks(), discard()', () => {
  const text = 'line1\nline2\nlast';

  it('readline() returns one line at a time, then empty', async () => {
    const served = await serveInput(async (input) => {
      const out = [];
      for (let i = 0; i < 4; i++) out.push(s(await input.readline()));
      return out;
    });
    const { res } = await ask(served.port, post('/', text));
    expect(JSON.parse(res.text())).toEqual(['line1\n', 'line2\n', 'last', '']);
  });

  it('readline(n) stops at n bytes', async () => {
    const served = await serveInput(async (input) => [
      s(await input.readline(3)),
      s(await input.readline()),
      s(await input.readline(100)),
      s(await input.readline()),
    ]);
    const { res } = await ask(served.port, post('/', 'abcdef\nxyz'));
    expect(JSON.parse(res.text())).toEqual(['abc', 'def\n', 'xyz', '']);
  });

  it('readlines() returns every line', async () => {
    const served = await serveInput(async (input) => (await input.readlines()).map(s));
    const { res } = await ask(served.port, post('/', text));
    expect(JSON.parse(res.text())).toEqual(['line1\n', 'line2\n', 'last']);
  });

  it('readlines(hint) stops once the lines read reach hint bytes', async () => {
    const served = await serveInput(async (input) => [
      (await input.readlines(7)).map(s),
      (await input.readlines()).map(s),
      (await input.readlines()).map(s),
    ]);
    const { res } = await ask(served.port, post('/', text));
    expect(JSON.parse(res.text())).toEqual([['line1\n', 'line2\n'], ['last'], []]);
  });

  it('for await (const line of input) yields lines (SPEC §7: eventlet yields the whole body at once)', async () => {
    const served = await serveInput(async (input) => {
      const lines: string[] = [];
      for await (const line of input) lines.push(s(line));
      return lines;
    });
    const { res } = await ask(served.port, post('/', 'a\nbb\nccc'));
    expect(JSON.parse(res.text())).toEqual(['a\n', 'bb\n', 'ccc']);
  });

  it('chunks() yields non-empty Buffers that add up to the body', async () => {
    const body = 'x'.repeat(100_000) + 'END';
    const served = await serveInput(async (input) => {
      const parts: Buffer[] = [];
      for await (const chunk of input.chunks()) parts.push(chunk);
      return {
        allBuffers: parts.every((p) => Buffer.isBuffer(p) && p.length > 0),
        total: s(Buffer.concat(parts)) === body,
      };
    });
    const { res } = await ask(served.port, post('/', body));
    expect(JSON.parse(res.text())).toEqual({ allBuffers: true, total: true });
  });

  it('chunks() over a chunked body yields the decoded data', async () => {
    const served = await serveInput(async (input) => {
      const parts: Buffer[] = [];
      for await (const chunk of input.chunks()) parts.push(chunk);
      return s(Buffer.concat(parts));
    });
    const { res } = await ask(served.port, chunkedHead('/') + '3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n');
    expect(res.text()).toBe('abcdefg');
  });

  it('discard() drops the body; reads after it resolve empty; the connection stays usable', async () => {
    const served = await serveInput(async (input) => {
      await input.discard();
      return { after: (await input.read()).length };
    });
    const conn = await RawConnection.open(served.port);
    await conn.write(post('/d', 'to be discarded') + head('GET /ping'));
    expect(JSON.parse((await conn.readResponse()).text())).toEqual({ after: 0 });
    expect((await conn.readResponse()).text()).toBe('pong');
  });
});

describe('empty and absent bodies', () => {
  it('Content-Length: 0 — read(), readline(), readlines() resolve empty', async () => {
    const served = await serveInput(async (input) => ({
      read: (await input.read()).length,
      readline: (await input.readline()).length,
      readlines: (await input.readlines()).length,
    }));
    const { res } = await ask(served.port, post('/', ''));
    expect(JSON.parse(res.text())).toEqual({ read: 0, readline: 0, readlines: 0 });
  });

  it('no Content-Length or Transfer-Encoding: read(1024) resolves b"" at once; then a CL body on the same socket is echoed (eventlet test_no_content_length_or_transfer_encoding)', async () => {
    const served = await serveInput(async (input) => input.read(1024));
    const conn = await RawConnection.open(served.port);
    await conn.write(head('GET /'));
    const first = await conn.readResponse({ timeoutMs: 2000 });
    expect(first.body.length).toBe(0);
    await conn.write(post('/echo', 'hello\n'));
    expect((await conn.readResponse()).text()).toBe('hello\n');
  });

  it('a POST without Content-Length or Transfer-Encoding has an empty body; what follows is the next request (SPEC §12)', async () => {
    const served = await serveInput(async (input) => ({ body: s(await input.read()) }));
    const conn = await RawConnection.open(served.port);
    await conn.write('POST /a HTTP/1.1\r\nHost: localhost\r\n\r\n' + head('GET /ping'));
    expect(JSON.parse((await conn.readResponse()).text())).toEqual({ body: '' });
    expect((await conn.readResponse()).text()).toBe('pong');
    expect(served.paths).toEqual(['/a', '/ping']);
  });
});

describe('chunked request bodies', () => {
  it('PUT chunked via read(), read(4096) loop, read(1) loop → "oh hai" (eventlet test_014_chunked_post)', async () => {
    const served = await serveInput(async (input, env) => {
      const path = envGet(env, 'PATH_INFO');
      if (path === '/a') return input.read();
      const size = path === '/b' ? 4096 : 1;
      const parts: Buffer[] = [];
      for (;;) {
        const b = await input.read(size);
        if (b.length === 0) break;
        parts.push(b);
      }
      return Buffer.concat(parts);
    });
    for (const path of ['/a', '/b', '/c']) {
      const conn = await RawConnection.open(served.port);
      await conn.write(chunkedHead(path, ['Connection: close'], 'PUT') + '2\r\noh\r\n4\r\n hai\r\n0\r\n\r\n');
      expect((await conn.readResponse()).text()).toBe('oh hai');
    }
  });

  it('chunk extensions are ignored; upper- and lower-case hex sizes', async () => {
    const served = await serveInput(async (input) => input.read());
    const { res } = await ask(
      served.port,
      chunkedHead('/') + 'A;name=value\r\n0123456789\r\na;x="quoted"\r\nabcdefghij\r\n1B\r\n' + 'Z'.repeat(27) + '\r\n0\r\n\r\n',
    );
    expect(res.text()).toBe('0123456789abcdefghij' + 'Z'.repeat(27));
  });

  it('trailers are consumed whole: the next pipelined request is served normally', async () => {
    const served = await serveInput(async (input) => input.read());
    const conn = await RawConnection.open(served.port);
    await conn.write(chunkedHead('/t') + '5\r\nhello\r\n0\r\nX-Trailer: 1\r\nGET /smuggled HTTP/1.1\r\n\r\n' + head('GET /ping'));
    expect((await conn.readResponse()).text()).toBe('hello');
    expect((await conn.readResponse()).text()).toBe('pong');
    expect(served.paths).toEqual(['/t', '/ping']);
  });

  it('readline() and readlines() across chunk boundaries (eventlet test_chunked_readline(s))', async () => {
    const body = '10\r\nthis is chunked\n\r\n7\r\nline 2\n\r\n5\r\nline3\r\n0\r\n\r\n';
    const viaReadline = await serveInput(async (input) => {
      const lines = [];
      for (;;) {
        const line = await input.readline();
        if (line.length === 0) break;
        lines.push(s(line));
      }
      return lines;
    });
    const a = await ask(viaReadline.port, chunkedHead('/lines') + body);
    expect(JSON.parse(a.res.text())).toEqual(['this is chunked\n', 'line 2\n', 'line3']);
    const viaReadlines = await serveInput(async (input) => (await input.readlines()).map(s));
    const b = await ask(viaReadlines.port, chunkedHead('/lines') + body);
    expect(JSON.parse(b.res.text())).toEqual(['this is chunked\n', 'line 2\n', 'line3']);
  });

  it('a line split over several chunks is one line', async () => {
    const served = await serveInput(async (input) => [s(await input.readline()), s(await input.readline())]);
    const { res } = await ask(served.port, chunkedHead('/') + '2\r\nhe\r\n6\r\nllo\nwo\r\n3\r\nrld\r\n0\r\n\r\n');
    expect(JSON.parse(res.text())).toEqual(['hello\n', 'world']);
  });

  it('four chunked PUTs on one keep-alive connection (eventlet test_027_keepalive_chunked)', async () => {
    const served = await serveInput(async (input) => input.read());
    const conn = await RawConnection.open(served.port);
    for (const path of ['/a', '/b', '/c', '/a']) {
      await conn.write(chunkedHead(path, [], 'PUT') + '10\r\n0123456789abcdef\r\n0\r\n\r\n');
      expect((await conn.readResponse()).text()).toBe('0123456789abcdef');
    }
  });

  it('a short read of a chunked body; the rest is discarded and the next request works (eventlet TestChunkedInput short_read)', async () => {
    const served = await serveInput(async (input) => input.read(10));
    const conn = await RawConnection.open(served.port);
    await conn.write(
      chunkedHead('/short-read', [], 'POST') + '10\r\nthis is chunked\n\r\n7\r\nline 2\n\r\n5\r\nline3\r\n0\r\n\r\n' + head('GET /ping'),
    );
    expect((await conn.readResponse()).text()).toBe('this is ch');
    expect((await conn.readResponse()).text()).toBe('pong');
  });

  it('HTTP/1.0 with a chunked body is decoded too', async () => {
    const served = await serveInput(async (input) => input.read());
    const conn = await RawConnection.open(served.port);
    await conn.write(chunkedHead('/', [], 'POST', 'HTTP/1.0') + '3\r\nold\r\n0\r\n\r\n');
    expect((await conn.readResponse()).text()).toBe('old');
  });
});

describe('malformed or truncated chunked bodies: the read rejects, that connection closes, the server goes on', () => {
  /** Reads until the end or an error; records the error. */
  const readAll: Handler = async (input) => {
    const parts: Buffer[] = [];
    for (;;) {
      const b = await input.read(1024);
      if (b.length === 0) break;
      parts.push(b);
    }
    return Buffer.concat(parts);
  };

  it.each([
    ['a bad hex size (zz)', '2\r\nok\r\nzz\r\nhello\r\n0\r\n\r\n'],
    ['a non-hex size (cats, eventlet test_aborted_chunked_post_bad_chunks)', 'cats\r\nlook here is some data for you\r\n'],
    ['chunk data not followed by CRLF (SPEC §12: eventlet does not check)', '3\r\nabcXYZ\r\n0\r\n\r\n'],
    ['a size just over 2^63', '8000000000000001\r\nabc\r\n0\r\n\r\n'],
    ['a size of 2^64 (overflows 64 bits)', '10000000000000000\r\nabc\r\n0\r\n\r\n'],
    ['a size of many hex digits', 'FFFFFFFFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n'],
    ['a negative size', '-1\r\nabc\r\n0\r\n\r\n'],
    ['an empty size line', '\r\nabc\r\n0\r\n\r\n'],
  ])('%s', async (_label, body) => {
    const served = await serveInput(readAll);
    const conn = await RawConnection.open(served.port);
    await conn.write(chunkedHead('/bad') + body);
    await vi.waitFor(() => expect(served.errors.length).toBe(1), { timeout: 5000 });
    const err = served.errors[0] as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message.length).toBeGreaterThan(0);
    expect(err.message).toMatch(/chunk/i);
    expect(await conn.waitClosed(5000)).toBe(true);
    // nothing after the bad chunk was taken as a request
    expect(served.paths).toEqual(['/bad']);
    await expectServing(served.port);
  });

  it('truncated inside chunk data, then the client closes (eventlet test_aborted_chunked_post)', async () => {
    const served = await serveInput(readAll);
    const conn = await RawConnection.open(served.port);
    await conn.write('PUT /somefile HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\ndef\r\na bunch of stuff');
    conn.end();
    await vi.waitFor(() => expect(served.errors.length).toBe(1), { timeout: 5000 });
    expect((served.errors[0] as Error).message.length).toBeGreaterThan(0);
    await expectServing(served.port);
  });

  it('truncated between chunks, then the client closes (eventlet test_aborted_chunked_post_between_chunks)', async () => {
    const served = await serveInput(readAll);
    const conn = await RawConnection.open(served.port);
    await conn.write('PUT /somefile HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\ndb\r\n' + 'A'.repeat(0xdb));
    conn.end();
    await vi.waitFor(() => expect(served.errors.length).toBe(1), { timeout: 5000 });
    expect((served.errors[0] as Error).message.length).toBeGreaterThan(0);
    await expectServing(served.port);
  });

  it('a Content-Length body cut short by the client: the read rejects (SPEC §12: eventlet returns the short data)', async () => {
    const served = await serveInput(async (input) => input.read());
    const conn = await RawConnection.open(served.port);
    await conn.write('POST /cut HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nonly ten b');
    await sleep(50);
    conn.end();
    await vi.waitFor(() => expect(served.errors.length).toBe(1), { timeout: 5000 });
    expect((served.errors[0] as Error).message.length).toBeGreaterThan(0);
    await expectServing(served.port);
  });

  it('a client that vanishes mid-body does not stall other connections', async () => {
    const served = await serveInput(readAll);
    const conn = await RawConnection.open(served.port);
    await conn.write(chunkedHead('/partial') + '4\r\nthi');
    await expectServing(served.port);
    conn.destroy();
    await vi.waitFor(() => expect(served.errors.length).toBe(1), { timeout: 5000 });
    await expectServing(served.port);
  });
});

describe('unread bodies are discarded before the next request (no leak)', () => {
  const smuggled = 'GET /leak HTTP/1.1\r\nHost: localhost\r\n\r\n';

  it('a Content-Length body that looks like a request never becomes one', async () => {
    const served = await serveInput(async () => 'ignored the body');
    const conn = await RawConnection.open(served.port);
    await conn.write(post('/first', smuggled) + head('GET /second'));
    expect((await conn.readResponse()).text()).toBe('ignored the body');
    expect((await conn.readResponse()).text()).toBe('ignored the body');
    expect(served.paths).toEqual(['/first', '/second']);
  });

  it('a chunked body that looks like a request never becomes one', async () => {
    const served = await serveInput(async () => 'ignored');
    const conn = await RawConnection.open(served.port);
    const size = Buffer.byteLength(smuggled).toString(16);
    await conn.write(chunkedHead('/first') + `${size}\r\n${smuggled}\r\n0\r\n\r\n` + head('GET /second'));
    expect((await conn.readResponse()).text()).toBe('ignored');
    expect((await conn.readResponse()).text()).toBe('ignored');
    expect(served.paths).toEqual(['/first', '/second']);
  });

  it('a partly read body: the rest is discarded', async () => {
    const served = await serveInput(async (input) => input.read(3));
    const conn = await RawConnection.open(served.port);
    await conn.write(post('/first', 'GET' + smuggled.slice(3)) + head('GET /second'));
    expect((await conn.readResponse()).text()).toBe('GET');
    await conn.readResponse();
    expect(served.paths).toEqual(['/first', '/second']);
  });

  it('a large unread body arriving after the response is discarded too', async () => {
    const served = await serveInput(async () => 'early answer');
    const conn = await RawConnection.open(served.port);
    const body = ('x'.repeat(1000) + smuggled).repeat(200);
    await conn.write(`POST /first HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n`);
    expect((await conn.readResponse()).text()).toBe('early answer');
    await conn.write(body);
    await conn.write(head('GET /second'));
    expect((await conn.readResponse()).text()).toBe('early answer');
    expect(served.paths).toEqual(['/first', '/second']);
  });

  it('HTTP/1.0 keep-alive framing with unread bodies (eventlet test_018b; the Expect request is HTTP/1.1 because SPEC §12 ignores Expect on 1.0)', async () => {
    const bodies: Record<string, string> = { '/1': 'first response', '/2': 'second response', '/3': 'third response' };
    const served = await serve((env: Environ, sr: StartResponse) => {
      const path = String(envGet(env, 'PATH_INFO'));
      // never looks at wsgi.input
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return [bodies[path] ?? `Unexpected path: ${path}`];
    });
    const reqBody = 'GET /tricksy HTTP/1.1\r\n';
    const conn = await RawConnection.open(served.port);
    await conn.write(
      `PUT /1 HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\nContent-Length: ${reqBody.length}\r\n\r\n${reqBody}`,
    );
    const r1 = await conn.readResponse();
    expect(r1.text()).toBe('first response');
    expect(r1.header('connection')?.toLowerCase()).toBe('keep-alive');

    await conn.write(
      `PUT /2 HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${reqBody.length}\r\nExpect: 100-continue\r\n\r\n`,
    );
    // the client does not wait for 100 Continue and sends its body at once
    await conn.write(reqBody);
    const r2 = await conn.readResponse();
    expect(r2.status).toBe(200);
    expect(r2.text()).toBe('second response');
    expect(r2.header('connection')?.toLowerCase()).toBe('close');
    expect(await conn.waitClosed()).toBe(true);

    const conn3 = await RawConnection.open(served.port);
    await conn3.write('PUT /3 HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    const r3 = await conn3.readResponse();
    expect(r3.text()).toBe('third response');
    expect(conn.received.toString('latin1')).not.toContain('Unexpected path');
  });
});
