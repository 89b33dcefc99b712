// A streamed response holds only the chunks still on their way to the client: once a chunk is
// written, nothing of the server's keeps it. A long download or an event stream must not grow
// the process by what it has already sent.
//
// Memory is read right after full collections (vitest.config.ts starts the workers with
// --expose-gc), from inside the app, when the last chunk has been handed over.
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import type { Environ, StartResponse } from '../ts/index.js';
import { unacknowledgedFromServer } from './helpers/proc.js';
import { cleanup, serve } from './helpers/serve.js';
import { gc, sleep } from './helpers/util.js';

afterEach(cleanup);

const CHUNKS = 200;
const CHUNK_BYTES = 256 * 1024;
const MIB = 1024 * 1024;

/** Reads the whole response and drops it, as a download client that saves to disk would. */
async function download(port: number): Promise<number> {
  const socket = net.connect(port, '127.0.0.1');
  let received = 0;
  socket.on('data', (data: Buffer) => (received += data.length));
  socket.write('GET /download HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  await new Promise<void>((resolve, reject) => socket.once('close', () => resolve()).once('error', reject));
  return received;
}

it('an async generator of 200 distinct 256 KiB chunks: what was sent is not kept until the response ends', async () => {
  let heldAtEnd = -1;
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let i = 0; i < CHUNKS; i++) yield Buffer.alloc(CHUNK_BYTES, i);
    gc();
    gc();
    heldAtEnd = process.memoryUsage().arrayBuffers;
  }
  const { port } = await serve((_env: Environ, startResponse: StartResponse) => {
    startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
    return chunks();
  });
  gc();
  const before = process.memoryUsage().arrayBuffers;
  const received = await download(port);
  expect(received).toBeGreaterThan(CHUNKS * CHUNK_BYTES);
  // 50 MiB went out; the socket's window and a chunk or two may still be held.
  expect((heldAtEnd - before) / MIB).toBeLessThan(8);
});

// Linux only: the option is Linux's, and the queue is read from /proc/net/tcp.
it.skipIf(process.platform !== 'linux')('a client that stops reading: the kernel holds little of the response unsent (TCP_NOTSENT_LOWAT)', async () => {
  const body = Buffer.alloc(8 * MIB, 'x');
  const served = await serve((_env: Environ, startResponse: StartResponse) => {
    startResponse('200 OK', [['Content-Length', String(body.length)]]);
    return [body];
  });
  const socket = net.connect(served.port, '127.0.0.1');
  await once(socket, 'connect');
  socket.pause();
  socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
  // Once the client's window is full, the server's queue stops changing.
  let queued = 0;
  for (let previous = -1; queued === 0 || queued !== previous; ) {
    previous = queued;
    await sleep(50);
    queued = unacknowledgedFromServer(served.port);
  }
  socket.destroy();
  // 128 KiB unsent at most, and what one write adds past it; without the limit the kernel
  // takes megabytes.
  expect(queued).toBeLessThan(512 * 1024);
});
