// `ferrowsgi MODULE[:EXPORT] [options]` (ts/cli.ts): spawned as users run it, plus its option parsing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_BIND, DEFAULT_GRACEFUL_TIMEOUT, parseCommandLine, splitTarget } from '../ts/cli/args.js';
import { parseBind } from '../ts/cli/bind.js';
import { UsageError } from '../ts/cli/errors.js';
import { killClis, root, runCli, startCli } from './helpers/cli-process.js';
import { curl, sleep } from './helpers/util.js';

const scratch = mkdtempSync(join(tmpdir(), 'ferrowsgi-cli-'));
afterEach(killClis);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
/** Windows has no SIGTERM or SIGINT to catch (`kill` ends the process outright) and no Unix sockets. */
const onWindows = process.platform === 'win32';

/** The lines a failed start printed: the tests want exactly one. */
function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/** Resolves once nothing accepts on `port` any more. */
async function refused(port: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (!accepted) return true;
    await sleep(20);
  }
  return false;
}

describe('serving', () => {
  // POSIX signals: on Windows, kill('SIGTERM') ends the process outright, without its handler.
  it.skipIf(onWindows)('serves the module\'s `app` export, logs each request, and SIGTERM ends it with status 0', async () => {
    const cli = await startCli(['hello.mjs', '--bind', '127.0.0.1:0']);
    expect(cli.addresses).toHaveLength(1);
    const url = cli.addresses[0]!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = new URL(url).port;

    const { code, stdout } = await curl([`${url}/hi`]);
    expect(code).toBe(0);
    expect(stdout.toString()).toBe(`hello from http port ${port}\n`);
    await cli.waitFor(/"GET \/hi HTTP\/1\.1" 200 \d+/);

    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
    expect(cli.stderr()).toMatch(/^ferrowsgi: SIGTERM: closing/m);
    expect(cli.stderr()).toMatch(/^ferrowsgi: closed$/m);
  });

  // A Unix socket and curl --unix-socket: not on Windows.
  it.skipIf(onWindows)('--bind repeats: every TCP address and a unix: socket serve the same app', async () => {
    const socketPath = join(scratch, 'repeat.sock');
    const cli = await startCli(['hello', '-b', '127.0.0.1:0', '--bind', '127.0.0.1:0', '--bind', `unix:${socketPath}`]);
    expect(cli.addresses).toHaveLength(3);
    expect(cli.addresses[2]).toBe(`unix:${socketPath}`);
    for (const url of cli.addresses.slice(0, 2)) {
      const { stdout } = await curl([`${url}/`]);
      expect(stdout.toString()).toBe(`hello from http port ${new URL(url).port}\n`);
    }
    const viaSocket = await curl(['--unix-socket', socketPath, 'http://localhost/']);
    expect(viaSocket.code).toBe(0);
    expect(viaSocket.stdout.toString()).toBe('hello from http port unix\n');

    cli.child.kill('SIGINT');
    expect((await cli.exited).code).toBe(0);
    // Closing removes the socket file, so the next start can bind the path again.
    expect(existsSync(socketPath)).toBe(false);
  });

  it('MODULE:EXPORT picks a named export; a CommonJS module works as well', async () => {
    const named = await startCli(['hello.mjs:other', '--bind', '127.0.0.1:0']);
    expect((await curl([`${named.addresses[0]}/`])).stdout.toString()).toBe('the other app\n');
    named.child.kill('SIGTERM');
    await named.exited;

    // Without its extension, as `gunicorn module:app` is written.
    const commonjs = await startCli(['commonjs', '--bind', '127.0.0.1:0']);
    expect((await curl([`${commonjs.addresses[0]}/`])).stdout.toString()).toBe('hello from CommonJS\n');
    commonjs.child.kill('SIGTERM');
    // Windows has no SIGTERM to catch: there the kill ends the process outright.
    const { code } = await commonjs.exited;
    if (!onWindows) expect(code).toBe(0);
  });

  it('a module path is relative to the working directory', async () => {
    const cli = await startCli([join('test', 'fixtures', 'cli', 'hello.mjs'), '--bind', '127.0.0.1:0'], { cwd: root });
    expect((await curl([`${cli.addresses[0]}/`])).stdout.toString()).toMatch(/^hello from http port \d+\n$/);
    cli.child.kill('SIGTERM');
    // Windows has no SIGTERM to catch: there the kill ends the process outright.
    const { code } = await cli.exited;
    if (!onWindows) expect(code).toBe(0);
  });

  // Unix sockets and curl --unix-socket: not on Windows.
  it.skipIf(onWindows)('replaces a socket file a killed server left behind, but not a live one', async () => {
    const socketPath = join(scratch, 'stale.sock');
    const first = await startCli(['hello.mjs', '--bind', `unix:${socketPath}`]);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(existsSync(socketPath)).toBe(true);

    const second = await startCli(['hello.mjs', '--bind', `unix:${socketPath}`]);
    expect((await curl(['--unix-socket', socketPath, 'http://localhost/'])).stdout.toString()).toBe('hello from http port unix\n');

    const third = await runCli(['hello.mjs', '--bind', `unix:${socketPath}`]);
    expect(third.code).toBe(1);
    expect(lines(third.stderr)).toEqual([expect.stringMatching(/^ferrowsgi: cannot listen: EADDRINUSE.*stale\.sock/)]);

    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });
});

describe('server options on the command line', () => {
  it('--no-access-log, --keepalive 0 and --max-http-version 1.0 reach the server', async () => {
    const cli = await startCli(['hello.mjs', '-b', '127.0.0.1:0', '--no-access-log', '--keepalive', '0']);
    const { stdout } = await curl(['--include', `${cli.addresses[0]}/quiet`]);
    // keepalive 0 is eventlet's keepalive=False: one request per connection.
    expect(stdout.toString('latin1')).toMatch(/\r\nConnection: close\r\n/i);
    cli.child.kill('SIGTERM');
    await cli.exited;
    expect(cli.stderr()).not.toContain('/quiet');

    const http10 = await startCli(['hello.mjs', '-b', '127.0.0.1:0', '--max-http-version', '1.0']);
    const response = await curl(['--include', `${http10.addresses[0]}/`]);
    expect(response.stdout.toString('latin1')).toMatch(/\r\nConnection: close\r\n/i);
    http10.child.kill('SIGTERM');
    await http10.exited;
  });

  it('--log-format sets the access log line', async () => {
    const cli = await startCli(['hello.mjs', '-b', '127.0.0.1:0', '--log-format', 'ACCESS %(status_code)s %(request_line)s']);
    await curl([`${cli.addresses[0]}/formatted`]);
    await cli.waitFor(/^ACCESS 200 GET \/formatted HTTP\/1\.1$/m);
    cli.child.kill('SIGTERM');
    await cli.exited;
  });

  it('--no-debug keeps the stack trace out of a 500 response; by default it is in', async () => {
    const debug = await startCli(['hello.mjs:broken', '-b', '127.0.0.1:0']);
    const withTrace = await curl([`${debug.addresses[0]}/`]);
    expect(withTrace.stdout.toString()).toContain('the app failed on purpose');
    debug.child.kill('SIGTERM');
    await debug.exited;

    const quiet = await startCli(['hello.mjs:broken', '-b', '127.0.0.1:0', '--no-debug']);
    const withoutTrace = await curl(['--include', `${quiet.addresses[0]}/`]);
    expect(withoutTrace.stdout.toString()).toMatch(/^HTTP\/1\.1 500 /);
    expect(withoutTrace.stdout.toString()).not.toContain('the app failed on purpose');
    quiet.child.kill('SIGTERM');
    await quiet.exited;
  });
});

// The certificates come from the openssl CLI, and the test ends with SIGTERM: not on Windows.
describe.skipIf(onWindows)('HTTPS with --certfile and --keyfile', () => {
  /** A throwaway self-signed ECDSA pair for 127.0.0.1, and a key that belongs to no certificate. */
  function makeCertificate() {
    const certfile = join(scratch, 'cert.pem');
    const keyfile = join(scratch, 'key.pem');
    const otherKey = join(scratch, 'other-key.pem');
    if (!existsSync(certfile)) {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout', keyfile, '-out', certfile,
      ], { stdio: 'ignore' });
      execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', otherKey], { stdio: 'ignore' });
    }
    return { certfile, keyfile, otherKey };
  }

  it('serves HTTPS on every --bind address; the app sees wsgi.url_scheme https', async () => {
    const { certfile, keyfile } = makeCertificate();
    const cli = await startCli(['hello.mjs', '-b', '127.0.0.1:0', '-b', '127.0.0.1:0', '--certfile', certfile, '--keyfile', keyfile]);
    expect(cli.addresses).toHaveLength(2);
    for (const url of cli.addresses) {
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const { code, stdout, stderr } = await curl(['--cacert', certfile, `${url}/`]);
      expect(code, stderr).toBe(0);
      expect(stdout.toString()).toBe(`hello from https port ${new URL(url).port}\n`);
    }
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  });

  it('a key that does not match the certificate, or a missing file: one line, exit status 1, nothing served', async () => {
    const { certfile, otherKey } = makeCertificate();
    const mismatched = await runCli(['hello.mjs', '-b', '127.0.0.1:0', '--certfile', certfile, '--keyfile', otherKey]);
    expect(mismatched.code).toBe(1);
    expect(lines(mismatched.stderr)).toEqual([expect.stringMatching(/^ferrowsgi: wrapSsl: .*other-key\.pem/)]);

    const missing = await runCli(['hello.mjs', '-b', '127.0.0.1:0', '--certfile', join(scratch, 'absent.pem'), '--keyfile', otherKey]);
    expect(missing.code).toBe(1);
    expect(lines(missing.stderr)).toEqual([expect.stringMatching(/^ferrowsgi: wrapSsl: cannot read certfile '.*absent\.pem'/)]);
  });
});

// POSIX signals: on Windows, kill('SIGTERM') ends the process outright, without its handler.
describe.skipIf(onWindows)('signals', () => {
  it('SIGTERM stops accepting at once and lets the request in progress finish', async () => {
    const cli = await startCli(['slow.mjs', '--bind', '127.0.0.1:0']);
    const port = Number(new URL(cli.addresses[0]!).port);
    const request = curl([`${cli.addresses[0]}/?1500`]);
    await cli.waitFor(/^request started$/m);

    cli.child.kill('SIGTERM');
    await cli.waitFor(/^ferrowsgi: SIGTERM: closing/m);
    expect(await refused(port)).toBe(true);

    const { code, stdout } = await request;
    expect(code).toBe(0);
    expect(stdout.toString()).toBe('finished\n');
    expect((await cli.exited).code).toBe(0);
  });

  it('a second signal exits at once, without waiting for the request', async () => {
    const cli = await startCli(['slow.mjs', '--bind', '127.0.0.1:0']);
    const request = curl([`${cli.addresses[0]}/?10000`]);
    await cli.waitFor(/^request started$/m);
    const started = Date.now();
    cli.child.kill('SIGINT');
    await cli.waitFor(/^ferrowsgi: SIGINT: closing/m);
    cli.child.kill('SIGINT');
    const { code } = await cli.exited;
    expect(code).toBe(130);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await request).code).not.toBe(0);
  });

  it('--graceful-timeout bounds the wait for requests in progress', async () => {
    const cli = await startCli(['slow.mjs', '--bind', '127.0.0.1:0', '--graceful-timeout', '0.3']);
    const request = curl([`${cli.addresses[0]}/?10000`]);
    await cli.waitFor(/^request started$/m);
    const started = Date.now();
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await request).code).not.toBe(0);
  });
});

describe('information and mistakes', () => {
  it('--version prints the package version', async () => {
    for (const flag of ['--version', '-v']) {
      const { code, stdout, stderr } = await runCli([flag]);
      expect(code).toBe(0);
      expect(stdout).toBe(`ferrowsgi ${version}\n`);
      expect(stderr).toBe('');
    }
  });

  it('--help prints the usage and every option', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: ferrowsgi MODULE\[:EXPORT\] \[options\]/);
    for (const option of [
      '--bind', '--backlog', '--reuse-port', '--certfile', '--keyfile', '--keepalive', '--socket-timeout',
      '--max-size', '--max-http-version', '--url-length-limit', '--minimum-chunk-size', '--log-format',
      '--no-access-log', '--no-log-x-forwarded-for', '--no-debug', '--graceful-timeout', '--help', '--version',
    ]) {
      expect(stdout).toContain(option);
    }
  });

  it('a module path that does not exist: one line, exit status 2', async () => {
    const { code, stdout, stderr } = await runCli(['no-such-app.js:app']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(lines(stderr)).toEqual([expect.stringMatching(/^ferrowsgi: cannot find module "no-such-app\.js" \(looked for .*no-such-app\.js/)]);
  });

  it('an export that does not exist, or is not a function: one line, exit status 2', async () => {
    const missing = await runCli(['hello.mjs:nope']);
    expect(missing.code).toBe(2);
    expect(lines(missing.stderr)).toEqual([
      'ferrowsgi: "hello.mjs" has no export "nope" (its exports: app, broken, notAnApp, other); name one with MODULE:EXPORT',
    ]);

    const notAFunction = await runCli(['hello.mjs:notAnApp']);
    expect(notAFunction.code).toBe(2);
    expect(lines(notAFunction.stderr)).toEqual(['ferrowsgi: export "notAnApp" of "hello.mjs" is a number, not an app function']);
  });

  it('nothing is bound when the app cannot be loaded', async () => {
    const socketPath = join(scratch, 'never.sock');
    const { code } = await runCli(['hello.mjs:nope', '--bind', `unix:${socketPath}`]);
    expect(code).toBe(2);
    expect(existsSync(socketPath)).toBe(false);
  });

  it('a module that throws while loading is the app\'s error: its message and stack, exit status 1', async () => {
    const { code, stderr } = await runCli(['throws.mjs']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^ferrowsgi: Error: this module fails at import on purpose\n\s+at .*throws\.mjs/);
  });

  it('an unknown option or a bad value: one line, exit status 2', async () => {
    for (const args of [
      ['hello.mjs', '--frobnicate'],
      ['hello.mjs', '--keepalive', 'soon'],
      ['hello.mjs', '--bind', 'localhost:http'],
      ['hello.mjs', '--certfile', 'cert.pem'],
      ['hello.mjs', '--log-format', '%(nokey)s'],
      ['hello.mjs', '--log-format', '%(status_code)5d'],
      [],
    ]) {
      const { code, stdout, stderr } = await runCli(args);
      expect(code, args.join(' ')).toBe(2);
      expect(stdout).toBe('');
      expect(lines(stderr), args.join(' ')).toHaveLength(1);
      expect(stderr).toMatch(/^ferrowsgi: /);
    }
  });

  // Runs on Windows CI only.
  it.runIf(onWindows)('on Windows, unix:PATH and --reuse-port: one line saying so, exit status 1', async () => {
    const unix = await runCli(['hello.mjs', '--bind', `unix:${join(scratch, 'windows.sock')}`]);
    expect(unix.code).toBe(1);
    expect(lines(unix.stderr)).toEqual([
      expect.stringMatching(/^ferrowsgi: cannot listen: EAFNOSUPPORT: Unix domain sockets are not supported on Windows .*windows\.sock$/),
    ]);

    const reusePort = await runCli(['hello.mjs', '--bind', '127.0.0.1:0', '--reuse-port']);
    expect(reusePort.code).toBe(1);
    expect(lines(reusePort.stderr)).toEqual(['ferrowsgi: cannot listen: ENOTSUP: reusePort is not supported on Windows 127.0.0.1:0']);
  });

  it('an address in use: one line, exit status 1', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as net.AddressInfo).port;
      const { code, stderr } = await runCli(['hello.mjs', '--bind', `127.0.0.1:${port}`]);
      expect(code).toBe(1);
      expect(lines(stderr)).toEqual([expect.stringMatching(new RegExp(`^ferrowsgi: cannot listen: EADDRINUSE.*127\\.0\\.0\\.1:${port}`))]);
    } finally {
      blocker.close();
    }
  });
});

describe('parseCommandLine', () => {
  const run = (argv: string[]) => {
    const command = parseCommandLine(argv);
    if (command.kind !== 'run') throw new Error(`expected a run, got ${command.kind}`);
    return command.config;
  };

  it('defaults: gunicorn\'s 127.0.0.1:8000, export `app`, server() defaults left to server()', () => {
    const config = run(['app.js']);
    expect(DEFAULT_BIND).toBe('127.0.0.1:8000');
    expect(config).toEqual({
      module: 'app.js',
      exportName: 'app',
      binds: [{ host: '127.0.0.1', port: 8000 }],
      certfile: undefined,
      keyfile: undefined,
      backlog: undefined,
      reusePort: false,
      gracefulTimeout: DEFAULT_GRACEFUL_TIMEOUT,
      server: {},
    });
  });

  it('maps every server option to SPEC §4\'s server() option', () => {
    const config = run([
      'app.js:handler', '--keepalive', '2.5', '--socket-timeout', '30', '--max-size', '64', '--max-http-version', 'HTTP/1.0',
      '--url-length-limit', '4096', '--minimum-chunk-size', '0', '--log-format', '%(status_code)s', '--no-access-log',
      '--no-log-x-forwarded-for', '--no-debug', '--backlog', '128', '--reuse-port', '--graceful-timeout', '5',
      '--certfile', 'c.pem', '--keyfile', 'k.pem',
    ]);
    expect(config.exportName).toBe('handler');
    expect(config.server).toEqual({
      keepalive: 2.5,
      socketTimeout: 30,
      maxSize: 64,
      maxHttpVersion: 'HTTP/1.0',
      urlLengthLimit: 4096,
      minimumChunkSize: 0,
      logFormat: '%(status_code)s',
      logOutput: false,
      logXForwardedFor: false,
      debug: false,
    });
    expect(config).toMatchObject({ backlog: 128, reusePort: true, gracefulTimeout: 5, certfile: 'c.pem', keyfile: 'k.pem' });
  });

  it('--help and --version win over everything else', () => {
    expect(parseCommandLine(['app.js', '--help'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['-v'])).toEqual({ kind: 'version' });
  });

  it('--bind takes gunicorn\'s forms', () => {
    expect(parseBind('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
    expect(parseBind(':8080')).toEqual({ host: '', port: 8080 });
    expect(parseBind('localhost')).toEqual({ host: 'localhost', port: 8000 });
    expect(parseBind('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseBind('[::]')).toEqual({ host: '::', port: 8000 });
    expect(parseBind('unix:/run/app.sock')).toEqual({ path: '/run/app.sock' });
    for (const bad of ['', 'unix:', 'host:70000', 'host:port', '::1:80', 'a:1:2']) {
      expect(() => parseBind(bad), bad).toThrow(UsageError);
    }
  });

  it('MODULE:EXPORT splits at a colon followed by an identifier only', () => {
    expect(splitTarget('app.js')).toEqual({ module: 'app.js', exportName: 'app' });
    expect(splitTarget('./srv/app.mjs:handler')).toEqual({ module: './srv/app.mjs', exportName: 'handler' });
    expect(splitTarget('C:\\srv\\app.js')).toEqual({ module: 'C:\\srv\\app.js', exportName: 'app' });
    expect(splitTarget('C:\\srv\\app.js:$app')).toEqual({ module: 'C:\\srv\\app.js', exportName: '$app' });
    expect(() => splitTarget(':app')).toThrow(UsageError);
  });

  it('numbers are checked before anything starts', () => {
    for (const argv of [
      ['a.js', '--max-size', '0'],
      ['a.js', '--max-size', '1.5'],
      ['a.js', '--keepalive', '-1'],
      ['a.js', '--socket-timeout', '1e3'],
      ['a.js', '--max-http-version', '2'],
      ['a.js', '--backlog', 'many'],
      ['a.js', 'b.js'],
    ]) {
      expect(() => parseCommandLine(argv), argv.join(' ')).toThrow(UsageError);
    }
  });
});
