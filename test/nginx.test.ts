// examples/nginx/nginx.conf as it is, with only its ports changed: a real nginx in front of two
// ferrowsgi CLI processes balances requests across them, passes X-Forwarded-For, and moves on to
// the other process when one stops. nginx comes from the system (Debian's package; .ci/run
// installs it): without it this test fails and says so, it is never skipped, except on Windows.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { killClis, root, startCli, type StartedCli } from './helpers/cli-process.js';

const example = join(root, 'examples', 'nginx');

/** nginx on PATH, or where Debian puts it (/usr/sbin is not on every user's PATH). */
function findNginx(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/opt/homebrew/bin', '/usr/local/bin'];
  return dirs.map((dir) => join(dir, 'nginx')).find((path) => existsSync(path));
}

const nginx = findNginx();
// Not on Windows: CI installs nginx on Linux and macOS only, and the last test stops a ferrowsgi
// process with SIGTERM, which Windows has no handler for.
const onWindows = process.platform === 'win32';
const prefix = mkdtempSync(join(tmpdir(), 'ferrowsgi-nginx-'));
// Run as root, nginx's workers drop to an unprivileged user that must reach its scratch folders.
chmodSync(prefix, 0o755);
let nginxProcess: ChildProcess | undefined;
let nginxLog = '';
let upstreams: StartedCli[] = [];
let frontPort = 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms; nginx said:\n${nginxLog}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The example's text with its three addresses moved to free ports; each must be there once. */
function render(ports: { first: number; second: number; front: number }): string {
  let text = readFileSync(join(example, 'nginx.conf'), 'utf8');
  for (const [from, to] of [['127.0.0.1:8001', ports.first], ['127.0.0.1:8002', ports.second], ['127.0.0.1:8080', ports.front]] as const) {
    const lines = text.split('\n').filter((line) => !line.trimStart().startsWith('#'));
    expect(lines.filter((line) => line.includes(from)), `examples/nginx/nginx.conf must use ${from} once`).toHaveLength(1);
    text = text.replace(new RegExp(`(^[^#\\n]*)${from.replace(/\./g, '\\.')}`, 'm'), `$1127.0.0.1:${to}`);
  }
  return text;
}

interface Seen {
  servedBy: string;
  remoteAddr: string;
  remotePort: string;
  forwardedFor: string | null;
  forwardedProto: string | null;
  realIp: string | null;
  host: string;
  path: string;
}

/** One keep-alive connection to nginx (fetch cannot set Host): nginx's worker sees one client. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: frontPort, method, path, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function get(path: string, headers: Record<string, string> = {}): Promise<Seen> {
  const { status, text } = await request('GET', path, headers);
  expect(status, text).toBe(200);
  return JSON.parse(text) as Seen;
}

beforeAll(async () => {
  if (nginx === undefined) {
    throw new Error('nginx is not installed: this test runs the real thing. Install it (Debian: apt-get install -y nginx; .ci/run does).');
  }
  upstreams = await Promise.all([0, 1].map(() => startCli(['app.mjs', '--bind', '127.0.0.1:0'], { cwd: example })));
  const [first, second] = upstreams.map((cli) => Number(new URL(cli.addresses[0]!).port)) as [number, number];
  frontPort = await freePort();
  writeFileSync(join(prefix, 'nginx.conf'), render({ first, second, front: frontPort }));

  const check = spawnSync(nginx, ['-t', '-p', prefix, '-e', 'stderr', '-c', join(prefix, 'nginx.conf')], { encoding: 'utf8' });
  expect(check.status, check.stderr).toBe(0);
  expect(check.stderr).toContain('test is successful');

  nginxProcess = spawn(nginx, ['-p', prefix, '-e', 'stderr', '-c', join(prefix, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  nginxProcess.stdout!.on('data', (data: Buffer) => (nginxLog += data.toString()));
  nginxProcess.stderr!.on('data', (data: Buffer) => (nginxLog += data.toString()));
  await waitForPort(frontPort);
}, 30000);

afterAll(async () => {
  agent.destroy();
  if (nginxProcess && nginxProcess.exitCode === null) {
    const exited = new Promise((resolve) => nginxProcess!.once('exit', resolve));
    // SIGTERM is nginx's fast shutdown: the master stops its workers before it exits.
    nginxProcess.kill('SIGTERM');
    await exited;
  }
  killClis();
  rmSync(prefix, { recursive: true, force: true });
});

afterEach(() => {
  expect(nginxLog).not.toMatch(/\[(emerg|alert|crit)\]/);
});

it.skipIf(onWindows)('balances requests across both ferrowsgi processes, over kept-alive upstream connections', async () => {
  const ports = upstreams.map((cli) => new URL(cli.addresses[0]!).port);
  const seen: Seen[] = [];
  for (let i = 0; i < 6; i++) seen.push(await get(`/balance/${i}`));
  for (const port of ports) {
    const here = seen.filter((one) => one.servedBy === port);
    // Round robin over one client connection (one nginx worker): three each.
    expect(here).toHaveLength(3);
    // One upstream connection per process carried all of them (nginx's `keepalive`).
    expect(new Set(here.map((one) => one.remotePort)).size).toBe(1);
  }
});

it.skipIf(onWindows)('passes the client on in X-Forwarded-For, X-Forwarded-Proto, X-Real-IP and Host', async () => {
  const direct = await get('/who', { Host: 'app.example' });
  expect(direct).toMatchObject({
    path: '/who', host: 'app.example', remoteAddr: '127.0.0.1',
    forwardedFor: '127.0.0.1', forwardedProto: 'http', realIp: '127.0.0.1',
  });
  // A client behind another proxy: nginx appends the address it sees.
  const chained = await get('/chained', { 'X-Forwarded-For': '203.0.113.7' });
  expect(chained.forwardedFor).toBe('203.0.113.7, 127.0.0.1');
  // ferrowsgi's access log names the forwarded clients first, spaces removed as eventlet does
  // (logXForwardedFor, on by default).
  const logs = () => upstreams.map((cli) => cli.stderr()).join('');
  await expect.poll(logs).toMatch(/^203\.0\.113\.7,127\.0\.0\.1,127\.0\.0\.1 - - \[[^\]]+\] "GET \/chained HTTP\/1\.1" 200 /m);
});

it.skipIf(onWindows)('carries a request body through to the app', async () => {
  const response = await request('POST', '/upload', { 'Content-Type': 'text/plain' }, 'x'.repeat(100_000));
  expect(response.status).toBe(200);
  // The upstream access log shows the POST arrived whole and was answered.
  await expect.poll(() => upstreams.map((cli) => cli.stderr()).join('')).toMatch(/"POST \/upload HTTP\/1\.1" 200 /);
});

it.skipIf(onWindows)('when one process stops, nginx sends every request to the other', async () => {
  const [stopped, remaining] = upstreams as [StartedCli, StartedCli];
  stopped.child.kill('SIGTERM');
  expect((await stopped.exited).code).toBe(0);
  const port = new URL(remaining.addresses[0]!).port;
  for (let i = 0; i < 4; i++) expect((await get(`/failover/${i}`)).servedBy).toBe(port);
});
