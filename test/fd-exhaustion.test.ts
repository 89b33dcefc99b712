// Running out of file descriptors must not end the server (eventlet's accept loop re-raises
// EMFILE and stops serving). The core logs the start of a run of failed accepts once, retries
// every 50 ms without spinning, logs when accepting works again, and serves as before.
import { connect, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { killClis, startCli } from './helpers/cli-process.js';
import { curl, sleep, until } from './helpers/util.js';

afterEach(killClis);

function openIdle(port: number, count: number): Promise<Socket[]> {
  return Promise.all(
    Array.from({ length: count }, () => new Promise<Socket>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(socket));
      socket.once('error', reject);
    })),
  );
}

const countOf = (text: string, pattern: RegExp) => [...text.matchAll(pattern)].length;

// prlimit is util-linux: the limit is set the same way on every Linux, and not elsewhere.
it.runIf(process.platform === 'linux')('out of file descriptors: logged once, retried, and served again once some are free', async () => {
  // The CLI holds about 30 descriptors when it serves; 64 leaves room for some 30 connections.
  // The rest of the 70 wait in the listen backlog (50) until descriptors are free again.
  const cli = await startCli(['hello.mjs', '--bind', '127.0.0.1:0', '--no-access-log'], { openFiles: 64 });
  const url = cli.addresses[0]!;
  const port = new URL(url).port;
  const clients = await openIdle(Number(port), 70);

  await cli.waitFor(/accept failed: .*\(os error 24\); retrying every 50 ms until it succeeds/);
  // Several retries later, still one line for the whole run of failures.
  await sleep(300);
  expect(countOf(cli.stderr(), /accept failed/g)).toBe(1);

  for (const client of clients) client.destroy();
  const [, failedAttempts] = await cli.waitFor(/accepting connections again after (\d+) failed attempts/);
  // 300 ms at one attempt per 50 ms, and no more than that: the retries do not spin.
  expect(Number(failedAttempts)).toBeGreaterThanOrEqual(4);
  expect(Number(failedAttempts)).toBeLessThan(200);

  const { code, stdout } = await curl(['--silent', '--max-time', '5', url + '/']);
  expect(code).toBe(0);
  expect(stdout.toString()).toBe(`hello from http port ${port}\n`);
  // The backlog's connections, accepted all at once after the recovery, may use up the
  // descriptors for a moment again: a new run of failures then has its own pair of lines, and
  // once accepting works, every run that started has ended.
  const runs = () => [countOf(cli.stderr(), /accept failed/g), countOf(cli.stderr(), /accepting connections again/g)];
  await until(() => runs()[0] === runs()[1], 5000, `every run of failed accepts to end (${runs().join(' started, ')} ended)`);
  expect(runs()[0]).toBeLessThan(5);
}, 30_000);
