// Runs wrk and reads its report.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpuSecondsOfStat } from './proc-stats.js';

const run = promisify(execFile);

export interface WrkRun {
  url: string;
  seconds: number;
  connections: number;
  threads: number;
  /** A wrk Lua script that shapes the request (method, body, pipelining). */
  script?: string;
  /** Arguments for the script's init(), after `--` on wrk's command line. */
  scriptArgs?: string[];
  /** wrk --timeout: a response not complete this long after its request counts as an error (wrk's default: 2). */
  timeoutSeconds?: number;
}

export interface WrkResult {
  requestsPerSecond: number;
  requests: number;
  p50Micros: number;
  p99Micros: number;
  /** Socket errors (connect, read, write, timeout) plus non-2xx/3xx responses. */
  errors: number;
}

export interface WrkRunResult extends WrkResult {
  /** The CPU time wrk itself used; undefined where /proc is not available. */
  wrkCpuSeconds: number | undefined;
}

/** wrk's version line, or undefined when wrk is not installed. */
export async function wrkVersion(): Promise<string | undefined> {
  let output: string;
  try {
    output = (await run('wrk', ['--version'])).stdout;
  } catch (err) {
    const { code, stdout } = err as { code?: unknown; stdout?: string };
    if (code === 'ENOENT') return undefined;
    // Debian's wrk prints its banner and usage, then exits with status 1.
    output = stdout ?? '';
  }
  // Without its copyright notice: `wrk 4.2.0 [epoll]`.
  return output.split('\n')[0]?.replace(/\s*Copyright.*$/, '').trim() || 'wrk (unknown version)';
}

export async function runWrk(options: WrkRun): Promise<WrkRunResult> {
  const args = [
    `-t${options.threads}`, `-c${options.connections}`, `-d${options.seconds}s`, '--latency',
    ...(options.timeoutSeconds === undefined ? [] : ['--timeout', `${options.timeoutSeconds}s`]),
    ...(options.script === undefined ? [] : ['-s', options.script]),
    options.url,
    ...(options.scriptArgs === undefined ? [] : ['--', ...options.scriptArgs]),
  ];
  // Room for wrk to finish its last requests and report after the run.
  const timeout = (options.seconds + (options.timeoutSeconds ?? 2) + 30) * 1000;
  // wrk runs under a shell that prints its own /proc stat once wrk has exited: the shell has
  // then waited for wrk, so its children's CPU time is wrk's (cutime and cstime).
  const { stdout, stderr } = await run(
    'sh',
    ['-c', '"$@"; status=$?; cat /proc/$$/stat >&2 2>/dev/null; exit $status', 'sh', 'wrk', ...args],
    { timeout, maxBuffer: 1 << 20 },
  );
  return { ...parseWrkOutput(stdout), wrkCpuSeconds: cpuSecondsOfStat(stderr, 'children') };
}

const TIME_UNITS: Record<string, number> = { us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 };

/** `1.23ms` → 1230 (microseconds). */
function micros(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (match === null) throw new Error(`wrk: cannot read the time ${JSON.stringify(text)}`);
  return Number(match[1]) * TIME_UNITS[match[2]!]!;
}

function required(output: string, pattern: RegExp, what: string): RegExpExecArray {
  const match = pattern.exec(output);
  if (match === null) throw new Error(`wrk: no ${what} in its output:\n${output}`);
  return match;
}

/** Reads the report that `wrk --latency` prints. */
export function parseWrkOutput(output: string): WrkResult {
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  const errors = (socketErrors?.slice(1).reduce((sum, n) => sum + Number(n), 0) ?? 0) + Number(non2xx?.[1] ?? 0);
  return {
    requestsPerSecond: Number(required(output, /^Requests\/sec:\s+([\d.]+)/m, 'Requests/sec')[1]),
    requests: Number(required(output, /^\s*(\d+) requests in /m, 'request count')[1]),
    p50Micros: micros(required(output, /^\s*50%\s+(\S+)/m, '50% latency')[1]!),
    p99Micros: micros(required(output, /^\s*99%\s+(\S+)/m, '99% latency')[1]!),
    errors,
  };
}
