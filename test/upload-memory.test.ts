// A large upload read slowly through chunks() streams with backpressure: the server holds only a
// bounded window of it, never the whole body (issue: request bodies, 200 MiB in under 16 MiB).
//
// RSS is sampled right after a full collection (vitest.config.ts starts the workers with
// --expose-gc): what is measured is what the server holds, not chunks the app already dropped
// that V8 has not collected yet (V8 lets up to 64 MiB of such garbage pile up, with node:http
// as with ferrowsgi).
import net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import type { Environ, StartResponse } from '../ts/index.js';
import { inputOf } from './helpers/apps.js';
import { cleanup, serve } from './helpers/serve.js';
import { gc, sleep } from './helpers/util.js';

afterEach(cleanup);

const TOTAL = 200 * 1024 * 1024;
const PIECE = Buffer.alloc(256 * 1024, 'u');
const MIB = 1024 * 1024;

/** Sends `total` bytes as a chunked body, waiting for the socket to drain as a client must. */
async function upload(port: number, total: number): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const answer: Buffer[] = [];
  socket.on('data', (data: Buffer) => answer.push(data));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const send = async (data: Buffer | string) => {
    if (!socket.write(data)) await new Promise((resolve) => socket.once('drain', resolve));
  };
  await send('PUT /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n');
  const sizeLine = `${PIECE.length.toString(16)}\r\n`;
  for (let sent = 0; sent < total; sent += PIECE.length) {
    await send(sizeLine);
    await send(PIECE);
    await send('\r\n');
  }
  await send('0\r\n\r\n');
  await closed;
  return Buffer.concat(answer).toString('latin1');
}

it('a 200 MiB chunked upload read slowly through chunks() grows RSS by less than 16 MiB', async () => {
  let received = 0;
  let peakRss = 0;
  const sampler = setInterval(() => {
    gc();
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  async function slowReader(env: Environ, startResponse: StartResponse) {
    let pieces = 0;
    for await (const chunk of inputOf(env).chunks()) {
      received += chunk.length;
      // A slow consumer: the client must be held back, not buffered for.
      if (++pieces % 64 === 0) await sleep(5);
    }
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [String(received)];
  }
  const served = await serve(slowReader);
  // Warm up the paths (JIT, buffers) before measuring, and start from a collected heap.
  await upload(served.port, 16 * MIB);
  received = 0;
  gc();
  const before = process.memoryUsage().rss;
  peakRss = before;
  try {
    const answer = await upload(served.port, TOTAL);
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer.endsWith(`\r\n\r\n${TOTAL}`)).toBe(true);
  } finally {
    clearInterval(sampler);
  }
  expect(received).toBe(TOTAL);
  const growth = peakRss - before;
  expect(growth, `peak RSS grew by ${(growth / MIB).toFixed(1)} MiB`).toBeLessThan(16 * MIB);
}, 120_000);
