// The benchmark's knobs, from the command line (`npm run bench -- --rounds 3`) or the environment
// (BENCH_ROUNDS=3 npm run bench), the command line winning.
import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** A/B rounds per scenario; each round measures every server once. */
  rounds: number;
  /** Seconds of each measured wrk run. */
  duration: number;
  /** Seconds of the unmeasured wrk run each server gets first, so that the JIT has settled. */
  warmup: number;
  connections: number;
  threads: number;
  /** Names of the scenarios to run; empty runs them all. */
  scenarios: string[];
}

const USAGE = `Usage: npm run bench -- [options]
  --rounds N        A/B rounds per scenario, at least 2 (env BENCH_ROUNDS, default 3)
  --duration S      seconds per measured wrk run (env BENCH_DURATION, default 5)
  --warmup S        seconds of unmeasured warm-up per server, 0 for none (env BENCH_WARMUP, default 1)
  --connections N   wrk -c, where a scenario does not set its own (env BENCH_CONNECTIONS, default 50)
  --threads N       wrk -t (env BENCH_THREADS, default 1)
  --scenario NAME   run only this scenario; repeatable (env BENCH_SCENARIOS, comma-separated)
  --help            show this`;

function integer(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** Returns undefined after printing the usage when --help was given. */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      threads: { type: 'string' },
      scenario: { type: 'string', multiple: true },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return undefined;
  }
  const scenarios = values.scenario ?? (env.BENCH_SCENARIOS ? env.BENCH_SCENARIOS.split(',') : []);
  return {
    // Fewer than two rounds would not be an interleaved A/B comparison.
    rounds: integer('rounds', values.rounds ?? env.BENCH_ROUNDS, 3, 2),
    duration: integer('duration', values.duration ?? env.BENCH_DURATION, 5, 1),
    warmup: integer('warmup', values.warmup ?? env.BENCH_WARMUP, 1, 0),
    connections: integer('connections', values.connections ?? env.BENCH_CONNECTIONS, 50, 1),
    threads: integer('threads', values.threads ?? env.BENCH_THREADS, 1, 1),
    scenarios: scenarios.map((name) => name.trim()).filter((name) => name !== ''),
  };
}
