// Nothing is lost or leaked when a client vanishes (SPEC §9, "the client disconnects"): at each
// stage at which a client can close or reset its connection, many such clients leave the server
// as it was. Measured from outside, after N aborted clients:
//   - open descriptors: the process's (the server runs in this process) return to what they were;
//   - capacity: exactly `maxSize` requests get into the app at once, no fewer (a permit that was
//     never given back) and no more (one given back twice);
//   - post hooks ran exactly once per aborted exchange, and a streamed body's finally and close()
//     exactly once each;
//   - the JS side keeps nothing of an aborted exchange: every environ it handed to the app is
//     garbage collected (an exchange left in the server's maps would keep its environ);
//   - pushed bodies: the push budget is whole again, so 64 uploads of 1 MiB are all read ahead.
// The descriptor and kernel-queue gauges read /proc and so only measure on Linux.
import { createHash } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { listen, wrapSsl, type App, type Body, type Environ, type StartResponse } from '../ts/index.js';
import { inputOf } from './helpers/apps.js';
import { parseResponse } from './helpers/http-parse.js';
import { openFds, queuedBytes } from './helpers/proc.js';
import { RawConnection, connect } from './helpers/raw-client.js';
import { cleanup, serve, serveOn, track, type Served, type ServerOptions } from './helpers/serve.js';
import { makeTestPki, removeTestPki, type TestPki } from './helpers/tls-certs.js';
import { realClientHello } from './helpers/tls-hello.js';
import { deferred, gc, head, sleep, until, type Deferred } from './helpers/util.js';

afterEach(cleanup);

const MIB = 1024 * 1024;
const onLinux = process.platform === 'linux';

/** Polls `measure` until `ok` holds or `ms` pass, and returns the last value (for expect()). */
async function settled<T>(measure: () => T, ok: (value: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = measure();
  while (!ok(value) && Date.now() < deadline) {
    await sleep(20);
    value = measure();
  }
  return value;
}

/** Reads the whole body, then answers with its length. */
async function bodyLengthApp(env: Environ, startResponse: StartResponse) {
  const body = await inputOf(env).read();
  startResponse('200 OK', []);
  return [String(body.length)];
}

/** Runs `client(i)` for i < count, `parallel` at a time. */
async function inBatches(count: number, parallel: number, client: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) await client(next++);
    }),
  );
}

/**
 * Leaves without a word: even clients close (a FIN, or an RST when bytes from the server lie
 * unread), odd ones reset the connection.
 */
function vanish(socket: net.Socket, i: number): void {
  if (i % 2 === 1) socket.resetAndDestroy();
  else socket.destroy();
}

const bump = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

/** The app under audit for one stage: what it does with a request that its client abandons. */
type StageApp = (env: Environ, startResponse: StartResponse, path: string, audit: Audit) => Body | Promise<Body>;

/** What the audited server's apps saw. */
class Audit {
  /** Paths of the stage's requests that reached the app. */
  readonly entered = new Set<string>();
  readonly hookRuns = new Map<string, number>();
  /** The environ of every stage request, held weakly. */
  readonly envs: Array<WeakRef<object>> = [];
  /** Body bytes each stage request's app has read so far. */
  readonly progress = new Map<string, number>();
  readonly yields = new Map<string, number>();
  readonly finallies = new Map<string, number>();
  readonly closes = new Map<string, number>();
  /** Requests for /probe in the app, and what they wait for. */
  probesIn = 0;
  probeGate: Deferred<void> = deferred();
  /** Requests for /held/* in the app, and what they wait for before reading their bodies. */
  heldIn = 0;
  heldGate: Deferred<void> = deferred();

  app(stage: StageApp): App {
    return (env, startResponse) => {
      const path = env.PATH_INFO;
      if (path === '/probe') return this.#probe(startResponse);
      if (path.startsWith('/held/')) return this.#held(env, startResponse);
      this.entered.add(path);
      this.envs.push(new WeakRef(env));
      env['eventlet.posthooks'].push([() => bump(this.hookRuns, path)]);
      return stage(env, startResponse, path, this);
    };
  }

  async #probe(startResponse: StartResponse): Promise<string[]> {
    this.probesIn += 1;
    await this.probeGate.promise;
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return ['probe ok'];
  }

  async #held(env: Environ, startResponse: StartResponse): Promise<string[]> {
    this.heldIn += 1;
    await this.heldGate.promise;
    const body = await inputOf(env).read();
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [`${body.length} ${sha(body)}`];
  }

  /** Stage environs still alive after a full collection. */
  liveEnvs(): number {
    gc();
    return this.envs.filter((ref) => ref.deref() !== undefined).length;
  }
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function patterned(length: number, seed: number): Buffer {
  const body = Buffer.alloc(length);
  for (let i = 0; i < length; i++) body[i] = (i * 131 + seed) & 0xff;
  return body;
}

/** Opens a client connection to the audited server (plain TCP, or TLS). */
type Dial = () => Promise<net.Socket>;

const plainDial = (port: number): Dial => () => connect(port);

function tlsDial(port: number): Dial {
  return () =>
    new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' }, () =>
        resolve(socket),
      );
      socket.once('error', reject);
    });
}

/** One GET /probe with `Connection: close`; resolves with the response body. */
async function probe(dial: Dial): Promise<string> {
  const socket = await dial();
  const received: Buffer[] = [];
  socket.on('data', (data: Buffer) => received.push(data));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  socket.write(head('GET /probe', ['Host: localhost', 'Connection: close']));
  await closed;
  const parsed = parseResponse(Buffer.concat(received), true);
  return parsed === null ? '' : `${parsed.response.status} ${parsed.response.text()}`;
}

/**
 * maxSize + 1 requests at once: exactly maxSize get into the app (a permit kept by an aborted
 * exchange would leave one outside; one given back twice would let the extra one in), and once
 * they are let go every request is answered.
 */
async function expectCapacity(audit: Audit, dial: Dial, maxSize: number): Promise<void> {
  audit.probesIn = 0;
  audit.probeGate = deferred();
  const answers = Array.from({ length: maxSize + 1 }, () => probe(dial));
  expect(await settled(() => audit.probesIn, (n) => n >= maxSize)).toBe(maxSize);
  await sleep(150);
  expect(audit.probesIn).toBe(maxSize);
  audit.probeGate.resolve();
  expect(await Promise.all(answers)).toEqual(Array.from({ length: maxSize + 1 }, () => '200 probe ok'));
}

interface Audited {
  audit: Audit;
  served: Served;
  dial: Dial;
  maxSize: number;
  /** Descriptors open once the server is up and idle. */
  baseline: number | undefined;
}

/** Serves `stage` under audit, checks its capacity once (which also warms it up), and takes the baseline. */
async function audited(
  stage: StageApp,
  options: { maxSize: number; tls?: TestPki } & ServerOptions,
): Promise<Audited> {
  const { tls: pki, ...serverOptions } = options;
  const audit = new Audit();
  const app = audit.app(stage);
  const certified = pki?.server.ecdsaPkcs8;
  const served = certified
    ? await serveOn(track(wrapSsl(listen(['127.0.0.1', 0]), { cert: certified.cert, key: certified.key })), app, serverOptions)
    : await serve(app, serverOptions);
  const dial = certified ? tlsDial(served.port) : plainDial(served.port);
  await expectCapacity(audit, dial, options.maxSize);
  await sleep(50);
  return { audit, served, dial, maxSize: options.maxSize, baseline: openFds() };
}

/**
 * After the aborted clients: every hook ran once, every environ is garbage, the descriptors are
 * back to the baseline, the capacity is whole, nothing was logged with a stack trace; and once
 * the server is closed, its listener is gone too.
 */
async function expectAllFreed({ audit, served, dial, maxSize, baseline }: Audited, aborted: number): Promise<void> {
  expect(audit.entered.size).toBe(aborted);
  expect(await settled(() => audit.hookRuns.size, (n) => n === aborted)).toBe(aborted);
  await sleep(100);
  expect([...audit.hookRuns.values()].filter((runs) => runs !== 1)).toEqual([]);
  if (baseline !== undefined) {
    expect(await settled(() => openFds()!, (n) => n <= baseline)).toBeLessThanOrEqual(baseline);
  }
  expect(await settled(() => audit.liveEnvs(), (n) => n === 0)).toBe(0);
  await expectCapacity(audit, dial, maxSize);
  expect(served.logText()).not.toMatch(/\n\s+at /);
  await served.close({ timeout: 5 });
  if (baseline !== undefined) {
    expect(await settled(() => openFds()!, (n) => n < baseline)).toBe(baseline - 1);
  }
}

it('the gauges see a leak: a connection kept open is two descriptors, an environ kept is one live environ', async () => {
  let kept: Environ | undefined;
  const target = await audited((env, startResponse) => {
    kept = env;
    startResponse('200 OK', []);
    return ['kept'];
  }, { maxSize: 2 });
  const conn = await RawConnection.open(target.served.port);
  await conn.write(head('GET /keep'));
  expect((await conn.readResponse()).text()).toBe('kept');
  if (target.baseline !== undefined) {
    // The client's socket and the server's, for as long as the connection lasts.
    expect(await settled(() => openFds()!, (n) => n >= target.baseline! + 2)).toBe(target.baseline + 2);
  }
  expect(target.audit.liveEnvs()).toBe(1);
  expect(kept?.PATH_INFO).toBe('/keep');
  kept = undefined;
  conn.destroy();
  await expectAllFreed(target, 1);
});

it('200 clients that vanish in the middle of a request head', async () => {
  const target = await audited((_env, startResponse) => {
    startResponse('200 OK', []);
    return ['never'];
  }, { maxSize: 4 });
  await inBatches(200, 20, async (i) => {
    const conn = await RawConnection.open(target.served.port);
    await conn.write(`POST /head/${i} HTTP/1.1\r\nHost: localhost\r\nContent-Le`);
    await sleep(10);
    vanish(conn.socket, i);
  });
  await expectAllFreed(target, 0);
  // A head that never ended is no request: nothing to log.
  expect(target.served.logLines().filter((line) => !line.includes('"GET /probe HTTP/1.1" 200'))).toEqual([]);
});

it('100 clients that vanish while their 1 MiB body is pushed: the push budget is whole again', async () => {
  // 64 uploads of 1 MiB at once fill the 64 MiB budget exactly, so maxSize lets 64 in.
  const target = await audited(bodyLengthApp, { maxSize: 64 });
  const { audit, served } = target;
  await inBatches(100, 10, async (i) => {
    const path = `/push/${i}`;
    const conn = await RawConnection.open(served.port);
    await conn.write(head(`POST ${path}`, ['Host: localhost', `Content-Length: ${MIB}`]));
    await conn.write(patterned(MIB / 2, i));
    await until(() => audit.entered.has(path), 5000, `${path} to reach the app`);
    vanish(conn.socket, i);
  });

  // 64 clients upload 1 MiB each to apps that wait before reading: with the budget whole, the
  // core reads all of them ahead, so no byte is left waiting in the kernel.
  audit.heldIn = 0;
  audit.heldGate = deferred();
  const bodies = Array.from({ length: 64 }, (_, i) => patterned(MIB, 1000 + i));
  let sent = 0;
  const uploads = await Promise.all(
    bodies.map(async (body, i) => {
      const conn = await RawConnection.open(served.port);
      const request = Buffer.from(head(`POST /held/${i}`, ['Host: localhost', `Content-Length: ${MIB}`]));
      void conn.write(Buffer.concat([request, body])).then(() => (sent += 1));
      return conn;
    }),
  );
  expect(await settled(() => audit.heldIn, (n) => n === 64, 10000)).toBe(64);
  expect(await settled(() => sent, (n) => n === 64, 10000)).toBe(64);
  if (onLinux) expect(await settled(() => queuedBytes(served.port), (n) => n === 0, 10000)).toBe(0);
  audit.heldGate.resolve();
  const answers = await Promise.all(uploads.map(async (conn) => (await conn.readResponse({ timeoutMs: 15000 })).text()));
  expect(answers).toEqual(bodies.map((body) => `${MIB} ${sha(body)}`));
  for (const conn of uploads) conn.destroy();

  await expectAllFreed(target, 100);
}, 40_000);

it('100 clients that vanish while the app reads their 4 MiB body with chunks()', async () => {
  const target = await audited(async (env, startResponse, path, audit) => {
    let received = 0;
    for await (const chunk of inputOf(env).chunks()) {
      received += chunk.length;
      audit.progress.set(path, received);
    }
    startResponse('200 OK', []);
    return [String(received)];
  }, { maxSize: 4 });
  const { audit, served } = target;
  await inBatches(100, 4, async (i) => {
    const path = `/large/${i}`;
    const conn = await RawConnection.open(served.port);
    await conn.write(head(`PUT ${path}`, ['Host: localhost', `Content-Length: ${4 * MIB}`]));
    await conn.write(patterned(256 * 1024, i));
    await until(() => (audit.progress.get(path) ?? 0) > 0, 5000, `the app to read some of ${path}`);
    vanish(conn.socket, i);
  });
  await expectAllFreed(target, 100);
});

it('200 clients that vanish in the middle of a chunked upload', async () => {
  const target = await audited(bodyLengthApp, { maxSize: 4 });
  const { audit, served } = target;
  const piece = Buffer.alloc(0x4000, 'c');
  await inBatches(200, 4, async (i) => {
    const path = `/chunked/${i}`;
    const conn = await RawConnection.open(served.port);
    await conn.write(head(`PUT ${path}`, ['Host: localhost', 'Transfer-Encoding: chunked']));
    await conn.write(Buffer.concat([Buffer.from('4000\r\n'), piece, Buffer.from('\r\n8000\r\nonly the start')]));
    await until(() => audit.entered.has(path), 5000, `${path} to reach the app`);
    vanish(conn.socket, i);
  });
  await expectAllFreed(target, 200);
});

it('200 clients that vanish after the 100 Continue their app read asked for', async () => {
  const target = await audited(bodyLengthApp, { maxSize: 4 });
  const { served } = target;
  await inBatches(200, 4, async (i) => {
    const conn = await RawConnection.open(served.port);
    await conn.write(head(`PUT /continue/${i}`, ['Host: localhost', 'Content-Length: 100000', 'Expect: 100-continue']));
    expect((await conn.readUntil('\r\n\r\n')).toString('latin1')).toMatch(/^HTTP\/1\.1 100 Continue\r\n/);
    if (i % 4 < 2) await conn.write(Buffer.alloc(1000, 'e'));
    vanish(conn.socket, i);
  });
  await expectAllFreed(target, 200);
});

it('200 clients that vanish while their async app awaits a timer, before startResponse', async () => {
  const target = await audited(async (_env, startResponse) => {
    await sleep(50);
    startResponse('200 OK', []);
    return ['too late'];
  }, { maxSize: 4 });
  const { audit, served } = target;
  await inBatches(200, 8, async (i) => {
    const path = `/slow/${i}`;
    const conn = await RawConnection.open(served.port);
    await conn.write(head(`GET ${path}`));
    await until(() => audit.entered.has(path), 5000, `${path} to reach the app`);
    vanish(conn.socket, i);
  });
  await expectAllFreed(target, 200);
});

it('50 clients reset just before their apps answer, on a busy JS thread: logged as disconnects, and forgotten', async () => {
  // The answers are produced after the connections are gone, in the turn before JS hears of it
  // (CLOSED): they are never written, so the post hooks run once and the log says the clients
  // left; the exchanges, those whose responses would close the connection too, are forgotten.
  let release = deferred();
  const target = await audited(async (_env, startResponse, path) => {
    await release.promise;
    const closes = Number(path.split('/')[2]) % 2 === 0;
    startResponse('200 OK', closes ? [['Connection', 'close']] : []);
    return ['too late'];
  }, { maxSize: 16 });
  const { audit, served } = target;
  for (let round = 0; round < 5; round++) {
    release = deferred();
    const paths = Array.from({ length: 10 }, (_, k) => `/late/${round * 10 + k}`);
    const conns = await Promise.all(
      paths.map(async (path) => {
        const conn = await RawConnection.open(served.port);
        await conn.write(head(`GET ${path}`));
        return conn;
      }),
    );
    await until(() => paths.every((path) => audit.entered.has(path)), 5000, 'every request to reach the app');
    for (const conn of conns) conn.socket.resetAndDestroy();
    // Busy, as with a CPU-bound app elsewhere: the resets arrive meanwhile.
    for (const end = Date.now() + 50; Date.now() < end; );
    release.resolve();
  }
  await expectAllFreed(target, 50);
  const lines = served.logLines().filter((line) => line.includes('/late/'));
  expect(lines).toHaveLength(50);
  const disconnect = / - client disconnected before the response to "GET \/late\/\d+ HTTP\/1\.1" was complete$/;
  expect(lines.filter((line) => !disconnect.test(line))).toEqual([]);
});

/** An endless async generator body of 256 KiB pieces, counting its pieces, finally and close(). */
function streamingApp(): StageApp {
  const piece = Buffer.alloc(256 * 1024, 's');
  return (_env, startResponse, path, { yields, finallies, closes }) => {
    startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
    const body = (async function* () {
      try {
        for (;;) {
          bump(yields, path);
          yield piece;
        }
      } finally {
        bump(finallies, path);
      }
    })();
    return Object.assign(body, { close: () => bump(closes, path) });
  };
}

/** Resolves once the body of `path` has stopped being pulled: it waits for its client to read. */
async function blocked(audit: Audit, path: string): Promise<void> {
  let last = -1;
  await until(
    () => {
      const now = audit.yields.get(path) ?? 0;
      const still = now > 1 && now === last;
      last = now;
      return still;
    },
    5000,
    `${path} to wait for its client`,
  );
}

function expectBodiesEndedOnce(audit: Audit, count: number): void {
  expect(audit.finallies.size).toBe(count);
  expect(audit.closes.size).toBe(count);
  expect([...audit.finallies.values(), ...audit.closes.values()].filter((runs) => runs !== 1)).toEqual([]);
}

it('100 clients that vanish while a streamed response waits for them to read: finally and close() run once', async () => {
  const target = await audited(streamingApp(), { maxSize: 4 });
  const { audit, served } = target;
  await inBatches(100, 4, async (i) => {
    const path = `/stream/${i}`;
    const socket = await connect(served.port);
    socket.pause();
    socket.write(head(`GET ${path}`));
    await blocked(audit, path);
    vanish(socket, i);
  });
  await expectAllFreed(target, 100);
  expectBodiesEndedOnce(audit, 100);
});

let pki: TestPki | undefined;
beforeAll(() => {
  if (process.platform !== 'win32') pki = makeTestPki();
});
afterAll(() => removeTestPki(pki));

// openssl makes the certificates, as in tls.test.ts; not on Windows.
it.skipIf(process.platform === 'win32')('200 clients that vanish in the middle of a TLS handshake', async () => {
  const target = await audited((_env, startResponse) => {
    startResponse('200 OK', []);
    return ['never'];
  }, { maxSize: 4, tls: pki });
  const { served } = target;
  const hello = await realClientHello();
  await inBatches(200, 10, async (i) => {
    const conn = await RawConnection.open(served.port);
    if (i % 4 < 2) {
      // Halfway through the ClientHello.
      await conn.write(hello.subarray(0, 40));
      await sleep(10);
    } else {
      // After the server's first flight, which waits for the client's Finished.
      await conn.write(hello);
      await conn.readBytes(1);
    }
    vanish(conn.socket, i);
  });
  await expectAllFreed(target, 0);
});

it.skipIf(process.platform === 'win32')('50 TLS clients that vanish while a streamed response waits for them to read', async () => {
  // Over TLS the ciphertext the socket does not take waits in the connection's session.
  const target = await audited(streamingApp(), { maxSize: 4, tls: pki });
  const { audit, served } = target;
  await inBatches(50, 4, async (i) => {
    const path = `/tls-stream/${i}`;
    const raw = await connect(served.port);
    const socket = tls.connect({ socket: raw, rejectUnauthorized: false, servername: 'localhost' });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
    socket.pause();
    socket.write(head(`GET ${path}`));
    await blocked(audit, path);
    // The TCP socket under TLS is the one that can be reset.
    vanish(i % 2 === 1 ? raw : socket, i);
  });
  await expectAllFreed(target, 50);
  expectBodiesEndedOnce(audit, 50);
});

