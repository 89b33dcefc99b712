// The seed's examples run unchanged and do what the seed says (SPEC §1).
import { afterEach, expect, it } from 'vitest';
import { killExamples, startExample } from './helpers/example-process.js';
import { curl } from './helpers/util.js';

afterEach(killExamples);

/** Windows has no SIGTERM to catch: there `kill` ends the process outright. */
const onWindows = process.platform === 'win32';

// POSIX signals: the graceful stop on SIGTERM is what this test checks.
it.skipIf(onWindows)('examples/wsgi.ts serves the hello world and stops gracefully on SIGTERM', async () => {
  const example = await startExample('wsgi.ts');
  const { code, stdout } = await curl(['--include', example.url + '/']);
  expect(code).toBe(0);
  const text = stdout.toString('latin1');
  expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  expect(text).toMatch(/\r\nContent-Type: text\/plain\r\n/);
  expect(text.endsWith('\r\n\r\nHello, World!\r\n')).toBe(true);
  expect(await example.stop()).toBe(0);
});

it('examples/hundred-continue.ts: curl with Expect: 100-continue gets the interim headers, then its echo', async () => {
  const example = await startExample('hundred-continue.ts');
  const { code, stdout, stderr } = await curl([
    '--verbose',
    '--header', 'Expect: 100-continue',
    '--data-binary', 'some text to echo',
    example.url + '/',
  ]);
  expect(code).toBe(0);
  expect(stdout.toString('utf8')).toBe('some text to echo');
  // curl -v prints the interim response as received: the status line and both extra headers,
  // before the final 200.
  const interim = stderr.indexOf('< HTTP/1.1 100 Continue');
  const final = stderr.indexOf('< HTTP/1.1 200 OK');
  expect(interim).toBeGreaterThanOrEqual(0);
  expect(final).toBeGreaterThan(interim);
  const interimBlock = stderr.slice(interim, final);
  expect(interimBlock).toContain('< Hundred-Continue-Header-1: H1');
  expect(interimBlock).toContain('< Hundred-Continue-Header-K: Hk');
  const exitCode = await example.stop();
  if (!onWindows) expect(exitCode).toBe(0);
});
