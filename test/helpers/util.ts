import { spawn } from 'node:child_process';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A full garbage collection; vitest.config.ts runs the tests under `node --expose-gc`. */
export function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('this test needs node --expose-gc (see vitest.config.ts)');
  collect();
}

/** Resolves once `check()` holds; rejects with `what` after `ms`. */
export async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await sleep(5);
  }
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Rejects if `promise` does not settle within ms. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]);
}

/** Runs curl (a real client) and resolves with its exit code and output. */
export function curl(args: string[], stdin?: string | Buffer): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['--silent', '--show-error', '--max-time', '5', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }),
    );
    if (stdin !== undefined) child.stdin.end(stdin);
    else child.stdin.end();
  });
}

/** A request head for raw sockets: `head('GET /x', ['Host: a'])` → `GET /x HTTP/1.1\r\nHost: a\r\n\r\n`. */
export function head(requestLine: string, headers: string[] = ['Host: localhost'], version = 'HTTP/1.1'): string {
  return `${requestLine} ${version}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;
}

const IMF_FIXDATE = /^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT\r\n/gm;

/**
 * `head` without its `Date` line, for comparing the rest byte for byte. There must be exactly
 * one, an IMF-fixdate (RFC 9110 §5.6.7) within a minute of now.
 */
export function withoutDate(head: string): string {
  const dates = [...head.matchAll(IMF_FIXDATE)];
  if (dates.length !== 1) throw new Error(`expected one Date line in ${JSON.stringify(head)}`);
  const sent = Date.parse(dates[0]![0].slice('Date: '.length));
  if (!(Math.abs(sent - Date.now()) < 60_000)) throw new Error(`the Date line is not now: ${JSON.stringify(dates[0]![0])}`);
  return head.replace(IMF_FIXDATE, '');
}
