// Content-Length bodies up to 1 MiB are read by the core before the app asks, and reach JS
// whole, so `read()` of the body needs no round trip (BRIDGE.md, BODY_PUSHED). The push must
// not change what any read returns, must hand over to reads on demand when the app reads in
// parts, and must stay within the server's budget (64 MiB) however many clients upload at once.
import { createHash } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import type { Environ, StartResponse } from '../ts/index.js';
import { inputOf } from './helpers/apps.js';
import { queuedBytes } from './helpers/proc.js';
import { RawConnection } from './helpers/raw-client.js';
import { cleanup, serve } from './helpers/serve.js';
import { deferred, sleep, until } from './helpers/util.js';

afterEach(cleanup);

const MIB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function patterned(length: number, seed: number): Buffer {
  const body = Buffer.alloc(length);
  for (let i = 0; i < length; i++) body[i] = (i * 131 + seed) & 0xff;
  return body;
}

/** An app that answers with the sha256 of the whole body, read with `read()`. */
async function hashingServer(gate?: Promise<void>) {
  return serve(async (env: Environ, sr: StartResponse) => {
    await gate;
    const body = await inputOf(env).read();
    sr('200 OK', [['Content-Type', 'text/plain']]);
    return [`${body.length} ${sha(body)}`];
  });
}

async function post(port: number, body: Buffer): Promise<RawConnection> {
  const conn = await RawConnection.open(port);
  await conn.write(Buffer.concat([Buffer.from(`POST /up HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
  return conn;
}

it('80 clients upload 1 MiB each at once, more than the push budget: every body is read back whole', async () => {
  const served = await hashingServer();
  const bodies = Array.from({ length: 80 }, (_, i) => patterned(MIB, i));
  const conns = await Promise.all(bodies.map((body) => post(served.port, body)));
  const answers = await Promise.all(conns.map(async (conn) => (await conn.readResponse({ timeoutMs: 20000 })).text()));
  expect(answers).toEqual(bodies.map((body) => `${MIB} ${sha(body)}`));
}, 30_000);

it('bodies sent while their apps wait: the core holds no more than its budget of them', async () => {
  // 200 clients send 1 MiB each to apps that do not read yet. Without a budget the core would read
  // all 200 MiB ahead; with it, at most 64 MiB (the rest waits in the kernel's socket buffers).
  const gate = deferred();
  const served = await hashingServer(gate.promise);
  const body = patterned(MIB, 7);
  const rss = () => {
    globalThis.gc?.();
    return process.memoryUsage().rss;
  };
  const before = rss();
  const conns: RawConnection[] = [];
  for (let i = 0; i < 200; i++) {
    const conn = await RawConnection.open(served.port);
    void conn.write(Buffer.concat([Buffer.from(`POST /held HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${MIB}\r\n\r\n`), body]));
    conns.push(conn);
  }
  await sleep(1000);
  const grown = rss() - before;
  expect(grown).toBeLessThan(110 * MIB);
  gate.resolve();
  const answers = await Promise.all(conns.map(async (conn) => (await conn.readResponse({ timeoutMs: 30000 })).text()));
  expect(new Set(answers)).toEqual(new Set([`${MIB} ${sha(body)}`]));
}, 60_000);

it('a pushed body read line by line while it arrives: the push hands over to reads on demand', async () => {
  const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}\n`);
  const body = Buffer.from(lines.join(''));
  expect(body.length).toBeLessThan(MIB);
  const served = await serve(async (env: Environ, sr: StartResponse) => {
    const input = inputOf(env);
    const got: string[] = [];
    for await (const line of input) got.push(line.toString());
    sr('200 OK', []);
    return [JSON.stringify({ count: got.length, same: got.join('') === body.toString() })];
  });
  const conn = await RawConnection.open(served.port);
  await conn.write(`POST /lines HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n`);
  for (let at = 0; at < body.length; at += 10_000) {
    await conn.write(body.subarray(at, at + 10_000));
    await sleep(2);
  }
  expect(JSON.parse((await conn.readResponse({ timeoutMs: 10000 })).text())).toEqual({ count: 5000, same: true });
});

it('read(n) first, then read() of the rest: the bytes come in order, none twice', async () => {
  const body = patterned(600_000, 3);
  const served = await serve(async (env: Environ, sr: StartResponse) => {
    const input = inputOf(env);
    await sleep(50); // part of the body has been pushed by now
    const head = await input.read(1000);
    const rest = await input.read();
    sr('200 OK', []);
    return [`${head.length} ${rest.length} ${sha(Buffer.concat([head, rest]))}`];
  });
  const conn = await RawConnection.open(served.port);
  await conn.write(`POST /parts HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n`);
  await conn.write(body.subarray(0, 200_000));
  await sleep(100);
  await conn.write(body.subarray(200_000));
  expect((await conn.readResponse({ timeoutMs: 10000 })).text()).toBe(`1000 599000 ${sha(body)}`);
});

it('a client that leaves halfway through a pushed body the app never reads: the server keeps serving', async () => {
  const served = await serve((_env: Environ, sr: StartResponse) => {
    sr('200 OK', []);
    return ['ok'];
  });
  const conn = await RawConnection.open(served.port);
  await conn.write(`POST /gone HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${MIB}\r\n\r\n`);
  await conn.write(patterned(300_000, 1));
  conn.destroy();
  await sleep(100);
  const next = await post(served.port, Buffer.from('x'));
  expect((await next.readResponse()).text()).toBe('ok');
});

it.skipIf(process.platform !== 'linux')(
  'clients that stall in bodies their apps answered without reading: their shares of the push budget come back',
  async () => {
    const gate = deferred();
    const served = await serve(async (env: Environ, sr: StartResponse) => {
      if (env.PATH_INFO === '/ignore') {
        sr('200 OK', []);
        return ['ok'];
      }
      await gate.promise;
      const body = await inputOf(env).read();
      sr('200 OK', []);
      return [`${body.length} ${sha(body)}`];
    });
    // 64 clients take the whole budget (a share is the body's full length), are answered at
    // once, and then send no more of their bodies while staying connected.
    const stalled = await Promise.all(
      Array.from({ length: 64 }, async (_, i) => {
        const conn = await RawConnection.open(served.port);
        await conn.write(`POST /ignore HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${MIB}\r\n\r\n`);
        await conn.write(patterned(MIB / 2, i));
        expect((await conn.readResponse()).text()).toBe('ok');
        return conn;
      }),
    );
    // Their responses have ended, so the next 64 uploads get the budget and are read ahead
    // while their apps wait: nothing is left in the kernel's queues.
    const bodies = Array.from({ length: 64 }, (_, i) => patterned(MIB, 100 + i));
    const uploads = await Promise.all(bodies.map((body) => post(served.port, body)));
    await until(() => queuedBytes(served.port) === 0, 10_000, `every upload to be read ahead (${queuedBytes(served.port)} bytes wait in the kernel)`);
    gate.resolve();
    const answers = await Promise.all(uploads.map(async (conn) => (await conn.readResponse({ timeoutMs: 15_000 })).text()));
    expect(answers).toEqual(bodies.map((body) => `${MIB} ${sha(body)}`));
    for (const conn of stalled) conn.destroy();
  },
  60_000,
);
