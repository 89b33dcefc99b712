// `npm run bench -- soak`: a million keep-alive requests against ferrowsgi's hello world, to show
// that the server neither fails nor grows under sustained load. The first 100,000 requests warm
// the server up (JIT, buffers, allocator pools); the server's RSS over the next 100,000 is the
// baseline, and its RSS over the last 100,000 may exceed it by less than 5 %. Every request must
// succeed.
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { rssBytes } from './proc-stats.js';
import { median } from './report.js';
import { nodeScript, ServerProcess } from './server-process.js';
import { parseWrkOutput, type WrkResult } from './wrk.js';

const USAGE = `Usage: npm run bench -- soak [options]
  --requests N      keep-alive requests in all, warm-up included (default 1000000)
  --warmup N        requests before the baseline RSS is taken (default 100000)
  --step N          requests per wrk run; RSS is printed after each (default 100000)
  --connections N   wrk -c (default 50)
  --help            show this`;

/** Most the RSS may grow after the warm-up, in percent. */
const MAX_GROWTH_PERCENT = 5;
/** An upper bound for one wrk run; it is interrupted after its requests, long before. */
const STEP_SECONDS_LIMIT = 600;
/** How often the server's RSS is read while wrk runs. */
const RSS_SAMPLE_MS = 100;
/** What bench/wrk/stop-after.lua prints once its requests are done. */
const DONE_LINE = 'stop-after: done';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

function count(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`soak: --${name} must be a whole number >= 1, got ${JSON.stringify(text)}`);
  return value;
}

const mib = (bytes: number): string => `${(bytes / (1 << 20)).toFixed(1)} MiB`;


/** Runs the soak; `live` gets the server so that the harness stops it on a signal. Returns the exit code. */
export async function soak(argv: string[], live: Set<ServerProcess>): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: 'string' },
      warmup: { type: 'string' },
      step: { type: 'string' },
      connections: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const total = count('requests', values.requests, 1_000_000);
  const warmup = count('warmup', values.warmup, 100_000);
  const step = count('step', values.step, 100_000);
  const connections = count('connections', values.connections, 50);
  if (warmup >= total) throw new RangeError('soak: --warmup must be less than --requests');

  const server = await ServerProcess.start('ferrowsgi', nodeScript(here('./servers/ferrowsgi-hello.ts')));
  live.add(server);
  try {
    console.log(`soak: ${total.toLocaleString('en')} keep-alive requests to ferrowsgi's hello world, ` +
      `wrk -t1 -c${connections}, ${warmup.toLocaleString('en')} of them warm-up`);
    const startRss = rssBytes(server.pid);
    if (startRss === undefined) throw new Error('soak: the RSS of the server cannot be read (/proc is needed)');
    console.log(`  at start: RSS ${mib(startRss)}`);

    let done = 0;
    let errors = 0;
    // A single reading swings by several MiB with the garbage collector's cycles, more than the
    // 5 % allowed; the median of the readings taken while a run goes on is the level to compare.
    let baseline: number | undefined;
    let last = 0;
    while (done < total) {
      // Runs end at the warm-up mark, so that the first measured run starts exactly there.
      const end = done < warmup ? Math.min(done + step, warmup) : Math.min(done + step, total);
      const samples: number[] = [];
      const sampler = setInterval(() => samples.push(rssBytes(server.pid) ?? 0), RSS_SAMPLE_MS);
      let result: WrkResult;
      try {
        result = await runWrkFor(server.url, end - done, connections);
      } finally {
        clearInterval(sampler);
      }
      if (!server.running) throw new Error(`soak: the server exited after ${done + result.requests} requests (${await server.exitReport()})`);
      if (result.requests === 0) throw new Error('soak: a wrk run completed no request');
      const warmingUp = done < warmup;
      done += result.requests;
      errors += result.errors;
      samples.push(rssBytes(server.pid)!);
      const level = median(samples);
      console.log(`  ${warmingUp ? 'warm-up to' : 'run to'} ${done.toLocaleString('en')} requests: RSS ${mib(level)} ` +
        `(${mib(Math.min(...samples))} to ${mib(Math.max(...samples))} in ${samples.length} readings), ` +
        `${result.requestsPerSecond.toFixed(0)} req/s, ${result.errors} errors`);
      if (!warmingUp) {
        baseline ??= level;
        last = level;
      }
    }

    const growth = ((last - baseline!) / baseline!) * 100;
    console.log(`\nRSS after warm-up: ${mib(baseline!)} (median over the first ${step.toLocaleString('en')} requests after it)`);
    console.log(`RSS at the end:    ${mib(last)} (median over the last run)`);
    console.log(`RSS growth:        ${growth.toFixed(2)} % (limit ${MAX_GROWTH_PERCENT} %)`);
    console.log(`requests:          ${done.toLocaleString('en')}`);
    console.log(`errors:            ${errors}`);
    const passed = growth < MAX_GROWTH_PERCENT && errors === 0;
    console.log(passed ? 'soak: passed' : 'soak: FAILED');
    return passed ? 0 : 1;
  } finally {
    await server.stop();
    live.delete(server);
  }
}

/**
 * Runs wrk (one thread, keep-alive) until it has had `requests` responses: wrk runs for a duration,
 * so it is interrupted once bench/wrk/stop-after.lua says the count is reached.
 */
function runWrkFor(url: string, requests: number, connections: number): Promise<WrkResult> {
  const args = [
    '-t1', `-c${connections}`, `-d${STEP_SECONDS_LIMIT}s`, '--latency',
    '-s', here('./wrk/stop-after.lua'), url, '--', String(requests),
  ];
  return new Promise((resolve, reject) => {
    const wrk = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    wrk.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      if (!interrupted && stdout.includes(DONE_LINE)) {
        interrupted = true;
        wrk.kill('SIGINT');
      }
    });
    wrk.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    wrk.once('error', reject);
    wrk.once('close', (code, signal) => {
      if (!interrupted) {
        reject(new Error(`soak: wrk ended before ${requests} responses (${signal ?? `status ${code}`}):\n${stdout}${stderr}`));
        return;
      }
      try {
        resolve(parseWrkOutput(stdout));
      } catch (err) {
        reject(err);
      }
    });
  });
}
