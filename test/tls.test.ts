// wrapSsl (SPEC §3): TLS terminated in the Rust core, seen by real clients (curl, openssl
// s_client, node:https), with a throwaway PKI made at run time (helpers/tls-certs.ts).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listen, wrapSsl, type Environ, type SslOptions, type StartResponse } from '../ts/index.js';
import { echoApp, envApp, helloApp } from './helpers/apps.js';
import { killExamples, startExample } from './helpers/example-process.js';
import { RawConnection } from './helpers/raw-client.js';
import { cleanup, serveOn, track, type App, type Served } from './helpers/serve.js';
import { makeTestPki, removeTestPki, type Issued, type TestPki } from './helpers/tls-certs.js';
import { realClientHello } from './helpers/tls-hello.js';
import { curl, sleep, within } from './helpers/util.js';

// Every test here uses the PKI that helpers/tls-certs.ts makes with the openssl CLI, and tests
// that need openssl are skipped on Windows; with every test skipped, the hooks do not run either.
const onWindows = process.platform === 'win32';

let pki: TestPki;

beforeAll(() => {
  pki = makeTestPki();
});

afterAll(() => removeTestPki(pki));

afterEach(async () => {
  killExamples();
  await cleanup();
});

const files = (issued: Issued): SslOptions => ({ certfile: issued.certfile, keyfile: issued.keyfile, serverSide: true });

/** Serves `app` over TLS on 127.0.0.1, a free port, with the log collected. */
function serveTls(options: SslOptions, app: App = helloApp): Promise<Served> {
  return serveOn(track(wrapSsl(listen(['127.0.0.1', 0]), options)), app);
}

interface HttpsAnswer {
  status: number;
  body: string;
  socket: tls.TLSSocket;
}

/** One request with node:https, trusting only the test root unless `ca` says otherwise. */
function httpsGet(port: number, options: https.RequestOptions = {}, path = '/'): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path, servername: 'localhost', ca: pki.root.cert, agent: false, timeout: 5000, ...options },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8'), socket: res.socket as tls.TLSSocket }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end();
  });
}

async function environOver(port: number, options: https.RequestOptions = {}): Promise<Record<string, unknown>> {
  const answer = await httpsGet(port, options);
  expect(answer.status).toBe(200);
  return JSON.parse(answer.body) as Record<string, unknown>;
}

/** Resolves once `served`'s log has a line matching `pattern`, with all such lines. */
async function logged(served: Served, pattern: RegExp): Promise<string[]> {
  const matching = () => served.logLines().filter((line) => pattern.test(line));
  for (let waited = 0; matching().length === 0; waited += 20) {
    if (waited > 3000) throw new Error(`no log line matching ${pattern} within 3 s; the log:\n${served.logText()}`);
    await sleep(20);
  }
  // Long enough for a duplicate line to show up too.
  await sleep(100);
  return matching();
}

const handshakeFailures = (served: Served) => served.logLines().filter((line) => line.includes('TLS handshake failed'));

/** The good client that must still be answered after each bad one. */
async function expectServing(served: Served): Promise<void> {
  const answer = await httpsGet(served.port);
  expect(answer.status).toBe(200);
  expect(answer.body).toBe('hello world');
}

describe.skipIf(onWindows)('serving HTTPS', () => {
  it('answers curl --cacert, and the environ says https', async () => {
    const served = await serveTls(files(pki.server.rsaPkcs8), envApp);
    const { code, stdout, stderr } = await curl(['--verbose', '--cacert', pki.root.certfile, `https://localhost:${served.port}/a?b=c`]);
    expect(code, stderr).toBe(0);
    // HTTP/1.1 was agreed on by ALPN: curl offers h2 too.
    expect(stderr).toContain('ALPN: server accepted http/1.1');
    const env = JSON.parse(stdout.toString('utf8')) as Record<string, unknown>;
    expect(env['wsgi.url_scheme']).toBe('https');
    expect(env.HTTPS).toBe('on');
    expect(env.SERVER_PORT).toBe(String(served.port));
    expect(env.SERVER_PROTOCOL).toBe('HTTP/1.1');
    expect(env.PATH_INFO).toBe('/a');
    expect(env.QUERY_STRING).toBe('b=c');
    expect(env.HTTP_HOST).toBe(`localhost:${served.port}`);
    // No client certificate was asked for.
    expect(env.SSL_CLIENT_S_DN).toBeUndefined();
    // Access log lines as for plain HTTP.
    expect(served.logLines().some((line) => line.includes('"GET /a?b=c HTTP/1.1" 200'))).toBe(true);
  });

  it('serves TLS 1.2 clients as well as TLS 1.3 ones', async () => {
    const served = await serveTls(files(pki.server.rsaPkcs1));
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const answer = await httpsGet(served.port, { minVersion: version, maxVersion: version });
      expect(answer.status).toBe(200);
      expect(answer.socket.getProtocol()).toBe(version);
    }
    const { code, stderr } = await curl(['--verbose', '--tls-max', '1.2', '--cacert', pki.root.certfile, `https://localhost:${served.port}/`]);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/SSL connection using TLSv1\.2/);
  });

  it('serves the seed example through wrapSsl(listen(...), { certfile, keyfile, serverSide: true })', async () => {
    const served = await serveTls({ certfile: pki.server.rsaPkcs8.certfile, keyfile: pki.server.rsaPkcs8.keyfile, serverSide: true });
    await expectServing(served);
  });

  it.each([
    ['RSA, PKCS#8 key', 'rsaPkcs8', 'rsa'],
    ['RSA, PKCS#1 key', 'rsaPkcs1', 'rsa'],
    ['ECDSA, SEC1 key', 'ecdsaSec1', 'ec'],
    ['ECDSA, PKCS#8 key', 'ecdsaPkcs8', 'ec'],
  ] as const)('serves with an %s', async (_name, which, kind) => {
    const issued = pki.server[which];
    const served = await serveTls(files(issued));
    const answer = await httpsGet(served.port);
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('hello world');
    const peer = answer.socket.getPeerCertificate();
    if (kind === 'rsa') expect(peer.bits).toBe(2048);
    else expect(peer.asn1Curve).toBe('prime256v1');
  });

  it('takes cert and key as PEM strings and as Buffers', async () => {
    const { cert, key } = pki.server.ecdsaSec1;
    await expectServing(await serveTls({ cert, key }));
    await expectServing(await serveTls({ cert: Buffer.from(cert), key: Buffer.from(key), serverSide: true }));
    // A Uint8Array that is a view into a larger buffer.
    const padded = Buffer.from(`xx${key}yy`);
    await expectServing(await serveTls({ cert, key: new Uint8Array(padded.buffer, padded.byteOffset + 2, padded.length - 4) }));
  });

  it('finds the key in the certfile when there is no keyfile, as Python does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferrowsgi-pem-'));
    try {
      const both = join(dir, 'both.pem');
      writeFileSync(both, pki.server.ecdsaPkcs8.key + pki.server.ecdsaPkcs8.cert);
      await expectServing(await serveTls({ certfile: both, serverSide: true }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends the intermediate of a chain, so that clients trusting only the root accept it', async () => {
    const served = await serveTls(files(pki.server.chained));
    const answer = await httpsGet(served.port);
    expect(answer.status).toBe(200);
    const chain = answer.socket.getPeerCertificate(true);
    expect(chain.subject.CN).toBe('localhost');
    expect(chain.issuerCertificate.subject.CN).toBe('ferrowsgi test intermediate');
    const { code, stderr } = await curl(['--cacert', pki.root.certfile, `https://localhost:${served.port}/`]);
    expect(code, stderr).toBe(0);
  });

  it('answers openssl s_client, which verifies the chain and the host name', async () => {
    const served = await serveTls(files(pki.server.chained));
    const child = spawn(
      'openssl',
      [
        's_client', '-connect', `127.0.0.1:${served.port}`, '-servername', 'localhost', '-verify_hostname', 'localhost',
        '-CAfile', pki.root.certfile, '-verify_return_error', '-alpn', 'http/1.1', '-quiet',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.write('GET /s_client HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    const code = await within(exited, 10000, 'openssl s_client exiting');
    const stderr = Buffer.concat(err).toString('utf8');
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('verify return:1');
    const text = Buffer.concat(out).toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toMatch(/\r\nConnection: close\r\n/i);
    expect(text.endsWith('\r\n\r\nhello world')).toBe(true);
  });

  it('keeps a TLS connection alive across requests', async () => {
    const served = await serveTls(files(pki.server.ecdsaPkcs8));
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await httpsGet(served.port, { agent });
      const second = await httpsGet(served.port, { agent });
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(second.socket).toBe(first.socket);
    } finally {
      agent.destroy();
    }
  });

  it('refuses a client that offers only h2: this server speaks HTTP/1.1', async () => {
    const served = await serveTls(files(pki.server.ecdsaPkcs8));
    const connect = (protocols: string[]) =>
      new Promise<tls.TLSSocket>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port: served.port, servername: 'localhost', ca: pki.root.cert, ALPNProtocols: protocols });
        socket.once('secureConnect', () => resolve(socket));
        socket.once('error', reject);
      });
    const both = await connect(['h2', 'http/1.1']);
    expect(both.alpnProtocol).toBe('http/1.1');
    // end(), not destroy(): the client's Finished must go out, or the server sees a half handshake.
    both.end();
    await expect(connect(['h2'])).rejects.toThrow(/no application protocol|alert/i);
    expect(await logged(served, /TLS handshake failed/)).toEqual([
      "127.0.0.1 - TLS handshake failed: peer doesn't support any known protocol",
    ]);
  });

  // Windows has no Unix domain sockets for the core to serve.
  it.skipIf(onWindows)('serves TLS on a Unix socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferrowsgi-sock-'));
    try {
      const path = join(dir, 'tls.sock');
      const served = await serveOn(track(wrapSsl(listen(path), files(pki.server.ecdsaSec1))), envApp);
      const env = await environOver(0, { socketPath: path, host: undefined, port: undefined });
      expect(env['wsgi.url_scheme']).toBe('https');
      expect(env.REMOTE_ADDR).toBe('unix');
      await served.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(onWindows)('bodies over TLS', () => {
  const FOUR_MIB = 4 << 20;
  const big = Buffer.alloc(FOUR_MIB);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);

  /** Sends `big` as an array body (with a Content-Length) or, on /stream, in chunks with pauses. */
  async function* streamed() {
    for (let at = 0; at < big.length; at += 1 << 20) {
      yield big.subarray(at, at + (1 << 20));
      await sleep(20);
    }
  }
  function bigApp(env: Environ, startResponse: StartResponse) {
    const headers: Array<[string, string]> = [['Content-Type', 'application/octet-stream']];
    if (env.PATH_INFO === '/close') headers.push(['Connection', 'close']);
    if (env.PATH_INFO === '/stream') {
      startResponse('200 OK', headers);
      return streamed();
    }
    startResponse('200 OK', [...headers, ['Content-Length', String(big.length)]]);
    return [big];
  }

  /** GETs `path`, reading nothing for `stallMs` so that the server's socket buffer fills up. */
  function slowGet(port: number, path: string, agent: https.Agent | false, stallMs: number) {
    return new Promise<{ body: Buffer; headers: NodeJS.Dict<string | string[]> }>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path, servername: 'localhost', ca: pki.root.cert, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.pause();
        setTimeout(() => res.resume(), stallMs);
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ body: Buffer.concat(chunks), headers: res.headers }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('a response larger than the socket buffers arrives whole, to a client that reads late, and the connection stays usable', async () => {
    const served = await serveTls(files(pki.server.ecdsaPkcs8), bigApp);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const path of ['/', '/stream', '/']) {
        const { body } = await within(slowGet(served.port, path, agent, 300), 10000, `GET ${path}`);
        expect(body.length).toBe(FOUR_MIB);
        expect(body.equals(big)).toBe(true);
      }
    } finally {
      agent.destroy();
    }
  });

  it('a large response that closes the connection is sent whole before close_notify', async () => {
    const served = await serveTls(files(pki.server.rsaPkcs8), bigApp);
    const { body, headers } = await within(slowGet(served.port, '/close', false, 300), 10000, 'GET /close');
    expect(headers.connection).toBe('close');
    expect(body.equals(big)).toBe(true);
  });

  it('echoes a 4 MiB request body', async () => {
    const served = await serveTls(files(pki.server.ecdsaSec1), echoApp);
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port: served.port, method: 'POST', path: '/', servername: 'localhost', ca: pki.root.cert, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        },
      );
      req.on('error', reject);
      req.end(big);
    });
    expect(answer.equals(big)).toBe(true);
  });

  it('pipelined requests over one TLS connection are answered in order', async () => {
    const served = await serveTls(files(pki.server.ecdsaSec1), envApp);
    const socket = tls.connect({ host: '127.0.0.1', port: served.port, servername: 'localhost', ca: pki.root.cert });
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const request = (path: string, last = false) =>
      `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${last ? 'Connection: close\r\n' : ''}\r\n`;
    socket.write(request('/one') + request('/two') + request('/three', true));
    await within(closed, 5000, 'the server closing after the third response');
    const text = Buffer.concat(received).toString('latin1');
    const paths = [...text.matchAll(/"PATH_INFO":"([^"]+)"/g)].map((m) => m[1]);
    expect(paths).toEqual(['/one', '/two', '/three']);
  });
});

describe.skipIf(onWindows)('client certificates', () => {
  it('with requestCert, refuses at the handshake a client without a certificate', async () => {
    const served = await serveTls({ ...files(pki.server.rsaPkcs8), ca: pki.clientCa.certfile, requestCert: true }, envApp);
    await expect(httpsGet(served.port)).rejects.toThrow();
    const lines = await logged(served, /TLS handshake failed/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^127\.0\.0\.1 - TLS handshake failed: .*no certificates/);
    // No request reached the app.
    expect(served.logLines().filter((line) => line.includes('"GET'))).toHaveLength(0);
  });

  it('with requestCert, refuses a certificate from a CA it does not trust', async () => {
    const served = await serveTls({ ...files(pki.server.rsaPkcs8), ca: pki.clientCa.certfile, requestCert: true }, envApp);
    await expect(httpsGet(served.port, { cert: pki.strangerClient.cert, key: pki.strangerClient.key })).rejects.toThrow();
    expect(await logged(served, /TLS handshake failed: .*UnknownIssuer/)).toHaveLength(1);
  });

  it('puts the subject of a verified certificate in SSL_CLIENT_S_DN, as Apache writes it', async () => {
    const served = await serveTls({ ...files(pki.server.rsaPkcs8), ca: pki.clientCa.cert, requestCert: true }, envApp);
    const env = await environOver(served.port, { cert: pki.client.cert, key: pki.client.key });
    // RFC 4514: the most specific part first, the comma inside a value escaped (openssl -nameopt RFC2253 agrees).
    expect(env.SSL_CLIENT_S_DN).toBe('CN=client\\, number 1,O=ferrowsgi tests');
    expect(env['wsgi.url_scheme']).toBe('https');

    const { code, stdout, stderr } = await curl([
      '--cacert', pki.root.certfile, '--cert', pki.client.certfile, '--key', pki.client.keyfile, `https://localhost:${served.port}/`,
    ]);
    expect(code, stderr).toBe(0);
    expect((JSON.parse(stdout.toString('utf8')) as Record<string, unknown>).SSL_CLIENT_S_DN).toBe('CN=client\\, number 1,O=ferrowsgi tests');
  });

  it('the environ option cannot make up a client certificate subject', async () => {
    const listener = track(wrapSsl(listen(['127.0.0.1', 0]), { ...files(pki.server.rsaPkcs8), ca: pki.clientCa.certfile }));
    const served = await serveOn(listener, envApp, { environ: { SSL_CLIENT_S_DN: 'CN=admin', OTHER: 'x' } });
    const env = await environOver(served.port);
    expect(env.OTHER).toBe('x');
    expect(env.SSL_CLIENT_S_DN).toBeUndefined();
    const withCert = await environOver(served.port, { cert: pki.client.cert, key: pki.client.key });
    expect(withCert.SSL_CLIENT_S_DN).toBe('CN=client\\, number 1,O=ferrowsgi tests');
  });

  it('with ca alone, a certificate is optional: verified when sent, absent otherwise', async () => {
    const served = await serveTls({ ...files(pki.server.rsaPkcs8), ca: pki.clientCa.certfile }, envApp);
    expect((await environOver(served.port)).SSL_CLIENT_S_DN).toBeUndefined();
    const env = await environOver(served.port, { cert: pki.client.cert, key: pki.client.key });
    expect(env.SSL_CLIENT_S_DN).toBe('CN=client\\, number 1,O=ferrowsgi tests');
    // A certificate that is sent must still verify.
    await expect(httpsGet(served.port, { cert: pki.strangerClient.cert, key: pki.strangerClient.key })).rejects.toThrow();
  });
});

describe.skipIf(onWindows)('bad clients cost their own connection only', () => {
  async function badClient(served: Served, bytes: Buffer | string): Promise<{ received: Buffer; closed: boolean }> {
    const conn = await RawConnection.open(served.port);
    await conn.write(bytes);
    const closed = await conn.waitClosed(3000);
    conn.destroy();
    return { received: conn.received, closed };
  }

  it('plain HTTP sent to the TLS port: closed without an HTTP answer, logged once', async () => {
    const served = await serveTls(files(pki.server.rsaPkcs8));
    const { received, closed } = await badClient(served, 'GET /non-ssl-request HTTP/1.0\r\n\r\n');
    expect(closed).toBe(true);
    expect(received.toString('latin1')).not.toMatch(/^HTTP\//);
    const lines = await logged(served, /TLS handshake failed/);
    expect(lines).toEqual(['127.0.0.1 - TLS handshake failed: plain HTTP sent to the TLS port']);
    await expectServing(served);
  });

  it('a client that stops mid-handshake: closed, logged once', async () => {
    const served = await serveTls(files(pki.server.rsaPkcs8));
    const hello = await realClientHello();
    const conn = await RawConnection.open(served.port);
    await conn.write(hello.subarray(0, 40));
    conn.end();
    expect(await conn.waitClosed(3000)).toBe(true);
    conn.destroy();
    expect(await logged(served, /TLS handshake failed/)).toEqual([
      '127.0.0.1 - TLS handshake failed: the client closed the connection mid-handshake',
    ]);
    await expectServing(served);
  });

  it('a garbage ClientHello: closed, logged once', async () => {
    const served = await serveTls(files(pki.server.rsaPkcs8));
    // A handshake record header, then bytes that are no ClientHello.
    const garbage = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x20]), Buffer.alloc(32, 0xab)]);
    expect((await badClient(served, garbage)).closed).toBe(true);
    const lines = await logged(served, /TLS handshake failed/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^127\.0\.0\.1 - TLS handshake failed: \S/);
    await expectServing(served);

    // Bytes that are not even a TLS record.
    expect((await badClient(served, Buffer.from([0x00, 0xff, 0x10, 0x20, 0x30]))).closed).toBe(true);
    expect(await logged(served, /first byte/)).toEqual(['127.0.0.1 - TLS handshake failed: not a TLS ClientHello (first byte 0x00)']);
    expect(handshakeFailures(served)).toHaveLength(2);
    await expectServing(served);
  });

  it('all of them in turn, and a good client is answered after each', async () => {
    const served = await serveTls(files(pki.server.ecdsaSec1));
    const hello = await realClientHello();
    const bad = [
      Buffer.from('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc'),
      hello.subarray(0, hello.length - 1),
      Buffer.concat([hello.subarray(0, 5), Buffer.alloc(hello.length - 5, 0x41)]),
    ];
    for (const [i, bytes] of bad.entries()) {
      const conn = await RawConnection.open(served.port);
      await conn.write(bytes);
      conn.end();
      expect(await conn.waitClosed(3000)).toBe(true);
      conn.destroy();
      await logged(served, /TLS handshake failed/);
      expect(handshakeFailures(served)).toHaveLength(i + 1);
      await expectServing(served);
    }
  });

  it('a client that connects and leaves without a byte is not worth a log line', async () => {
    const served = await serveTls(files(pki.server.rsaPkcs8));
    const conn = await RawConnection.open(served.port);
    conn.end();
    expect(await conn.waitClosed(3000)).toBe(true);
    conn.destroy();
    await expectServing(served);
    await sleep(100);
    expect(handshakeFailures(served)).toEqual([]);
  });

  it('a stalled handshake neither blocks other clients nor a graceful close', async () => {
    const served = await serveTls(files(pki.server.rsaPkcs8));
    const hello = await realClientHello();
    const stalled = await RawConnection.open(served.port);
    await stalled.write(hello.subarray(0, 20));
    const silent = await RawConnection.open(served.port);
    await expectServing(served);
    const closing = served.close();
    await within(closing, 2000, 'the server closing');
    // Closed before close() resolved; the client sees it at its next read.
    expect(await stalled.waitClosed(1000)).toBe(true);
    expect(await silent.waitClosed(1000)).toBe(true);
  });

  it('a stalled handshake is dropped after 10 s, and logged', async () => {
    const served = await serveTls(files(pki.server.rsaPkcs8));
    const hello = await realClientHello();
    const stalled = await RawConnection.open(served.port);
    await stalled.write(hello.subarray(0, 20));
    const started = Date.now();
    expect(await stalled.waitClosed(12000)).toBe(true);
    expect(Date.now() - started).toBeGreaterThan(9000);
    expect(await logged(served, /TLS handshake failed/)).toEqual([
      '127.0.0.1 - TLS handshake failed: no complete handshake within 10 s',
    ]);
    await expectServing(served);
  }, 20000);
});

describe.skipIf(onWindows)('misuse fails at wrapSsl, naming the file and the cause', () => {
  const wrapFresh = (options: SslOptions) => wrapSsl(track(listen(['127.0.0.1', 0])), options);
  const thrown = (options: SslOptions): Error => {
    try {
      wrapFresh(options);
    } catch (err) {
      return err as Error;
    }
    throw new Error('wrapSsl did not throw');
  };

  it('a missing file', () => {
    const err = thrown({ certfile: pki.server.rsaPkcs8.certfile, keyfile: join(pki.dir, 'private.key'), serverSide: true });
    expect(err.message).toBe(`wrapSsl: cannot read keyfile '${join(pki.dir, 'private.key')}': ENOENT: no such file or directory`);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('an unreadable file (a directory)', () => {
    const err = thrown({ certfile: pki.dir, keyfile: pki.server.rsaPkcs8.keyfile });
    expect(err.message).toMatch(new RegExp(`^wrapSsl: cannot read certfile '${pki.dir}': EISDIR: `));
    expect((err as NodeJS.ErrnoException).code).toBe('EISDIR');
  });

  it('a key that does not match the certificate', () => {
    const err = thrown({ certfile: pki.server.rsaPkcs8.certfile, keyfile: pki.server.rsaPkcs1.keyfile });
    expect(err.message).toBe(
      `wrapSsl: keyfile '${pki.server.rsaPkcs1.keyfile}': the private key does not match the certificate ` +
        `(certfile '${pki.server.rsaPkcs8.certfile}')`,
    );
    // Of another type, too.
    expect(thrown({ cert: pki.server.rsaPkcs8.cert, key: pki.server.ecdsaSec1.key }).message).toBe(
      'wrapSsl: key: the private key does not match the certificate (cert)',
    );
  });

  it('a chain in the wrong order', () => {
    const err = thrown({ certfile: pki.files.reversedChain, keyfile: pki.server.chained.keyfile });
    expect(err.message).toBe(
      `wrapSsl: keyfile '${pki.server.chained.keyfile}': the private key belongs to certificate 2 of the chain, ` +
        "but the server's own certificate must come first",
    );
  });

  it('an expired certificate', () => {
    const err = thrown(files(pki.server.expired));
    expect(err.message).toBe(`wrapSsl: certfile '${pki.server.expired.certfile}': the certificate (CN=expired.test) expired on Jan  2 00:00:00 2020 +00:00`);
  });

  it('input that is not PEM', () => {
    expect(thrown({ certfile: pki.files.derCert, keyfile: pki.server.rsaPkcs8.keyfile }).message).toMatch(
      new RegExp(`^wrapSsl: certfile '${pki.files.derCert}': no PEM data, expected a certificate \\(-----BEGIN CERTIFICATE-----\\)`),
    );
    expect(thrown({ certfile: pki.server.rsaPkcs8.certfile, keyfile: pki.files.notPem }).message).toMatch(
      new RegExp(`^wrapSsl: keyfile '${pki.files.notPem}': no PEM data, expected a private key`),
    );
    expect(thrown({ cert: 'not a certificate', key: pki.server.rsaPkcs8.key }).message).toMatch(/^wrapSsl: cert: no PEM data/);
    // Truncated PEM.
    const truncated = pki.server.rsaPkcs8.cert.slice(0, 200);
    expect(thrown({ cert: truncated, key: pki.server.rsaPkcs8.key }).message).toMatch(
      /^wrapSsl: cert: malformed PEM: no -----END CERTIFICATE----- line/,
    );
  });

  it('swapped certfile and keyfile, an encrypted key (PKCS#8 or legacy OpenSSL), a non-certificate CA', () => {
    const { certfile, keyfile } = pki.server.rsaPkcs8;
    expect(thrown({ certfile: keyfile, keyfile: certfile }).message).toBe(
      `wrapSsl: certfile '${keyfile}': expected a certificate (-----BEGIN CERTIFICATE-----), found only PRIVATE KEY`,
    );
    expect(thrown({ certfile, keyfile: pki.files.encryptedKey }).message).toBe(
      `wrapSsl: keyfile '${pki.files.encryptedKey}': the private key is encrypted; decrypt it first (openssl pkey -in FILE -out PLAIN)`,
    );
    expect(thrown({ certfile, keyfile: pki.files.legacyEncryptedKey }).message).toBe(
      `wrapSsl: keyfile '${pki.files.legacyEncryptedKey}': the private key is encrypted; decrypt it first (openssl pkey -in FILE -out PLAIN)`,
    );
    expect(thrown({ certfile, keyfile, ca: pki.files.notPem }).message).toMatch(
      new RegExp(`^wrapSsl: ca '${pki.files.notPem}': no PEM data`),
    );
    expect(thrown({ certfile, keyfile, ca: pki.server.rsaPkcs8.key }).message).toBe(
      'wrapSsl: ca: expected a certificate (-----BEGIN CERTIFICATE-----), found only PRIVATE KEY',
    );
  });

  it('a certfile without a key and no keyfile', () => {
    expect(thrown({ certfile: pki.server.rsaPkcs8.certfile }).message).toBe(
      `wrapSsl: certfile '${pki.server.rsaPkcs8.certfile}': expected a private key (-----BEGIN PRIVATE KEY-----), found only CERTIFICATE ` +
        '(without keyfile or key, the key is looked for beside the certificate)',
    );
  });

  it('options that are wrong in themselves are TypeErrors', () => {
    const good = files(pki.server.rsaPkcs8);
    expect(() => wrapFresh({ ...good, serverSide: false })).toThrow(new TypeError('wrapSsl: serverSide must be true or absent (ferrowsgi is the server side), got false'));
    expect(() => wrapFresh({ ...good, ciphers: 'HIGH', server_side: true } as SslOptions)).toThrow(
      new TypeError("wrapSsl: unknown options 'ciphers', 'server_side' (use 'serverSide')"),
    );
    expect(() => wrapFresh({ ...good, requestCert: true })).toThrow(
      new TypeError('wrapSsl: requestCert needs ca, the CA certificates that issue the client certificates'),
    );
    expect(() => wrapFresh({ ...good, cert: pki.server.rsaPkcs8.cert })).toThrow(new TypeError('wrapSsl: give certfile or cert, not both'));
    expect(() => wrapFresh({ keyfile: good.keyfile })).toThrow(TypeError);
    expect(() => wrapFresh({ ...good, cert: undefined, certfile: 42 as unknown as string })).toThrow(TypeError);
    expect(() => wrapSsl({} as never, good)).toThrow(new TypeError('wrapSsl: the first argument must be a Listener from listen()'));
  });

  it('a listener that is served or already wrapped', async () => {
    const good = files(pki.server.rsaPkcs8);
    const listener = wrapFresh(good);
    expect(() => wrapSsl(listener, good)).toThrow('wrapSsl: the listener already serves TLS');
    const plain = track(listen(['127.0.0.1', 0]));
    await serveOn(plain, helloApp);
    expect(() => wrapSsl(plain, good)).toThrow('wrapSsl: the listener is already served: wrap it before passing it to server()');
  });

  it('a failed wrapSsl leaves the listener as it was, to be wrapped again', async () => {
    const listener = track(listen(['127.0.0.1', 0]));
    expect(() => wrapSsl(listener, files(pki.server.expired))).toThrow(/expired/);
    const served = await serveOn(wrapSsl(listener, files(pki.server.rsaPkcs8)), helloApp);
    await expectServing(served);
  });
});

describe.skipIf(onWindows)('examples/ssl.ts', () => {
  it('serves the hello world over HTTPS with the given certificate and key', async () => {
    const { certfile, keyfile } = pki.server.rsaPkcs8;
    const example = await startExample('ssl.ts', [certfile, keyfile]);
    expect(example.url).toMatch(/^https:\/\//);
    const port = new URL(example.url).port;
    const { code, stdout, stderr } = await curl(['--include', '--cacert', pki.root.certfile, `https://localhost:${port}/`]);
    expect(code, stderr).toBe(0);
    const text = stdout.toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text.endsWith('\r\n\r\nHello, World!\r\n')).toBe(true);
    expect(await example.stop()).toBe(0);
  });

  it('says what is wrong when the files are missing', async () => {
    const missing = join(pki.dir, 'missing.crt');
    await expect(startExample('ssl.ts', [missing, pki.server.rsaPkcs8.keyfile])).rejects.toThrow(
      `ssl.ts: wrapSsl: cannot read certfile '${missing}': ENOENT: no such file or directory`,
    );
  });
});
