// `npm run bench`: ferrowsgi beside node:http in one run, scenario by scenario. Each server runs
// in its own process; wrk measures them in alternating order (A B, B A, ...) so that a drift in
// the machine's speed does not favour either; the table shows medians over the rounds.
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseOptions, type BenchOptions } from './options.js';
import { probe } from './probe.js';
import { cpuSeconds, peakRssBytes } from './proc-stats.js';
import { formatMicros, formatTable, type Measured } from './report.js';
import { BASELINE, scenarios, type Scenario } from './scenarios.js';
import { ServerProcess } from './server-process.js';
import { soak } from './soak.js';
import { runWrk, wrkVersion } from './wrk.js';

/** What `import 'ferrowsgi'` loads in the server scripts. */
const BUILT_PACKAGE = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** Servers running right now, stopped on the way out whatever the way is. */
const live = new Set<ServerProcess>();

function select(names: string[]): Scenario[] {
  if (names.length === 0) return scenarios;
  return names.map((name) => {
    const scenario = scenarios.find((s) => s.name === name);
    if (scenario === undefined) {
      throw new Error(`no scenario named ${JSON.stringify(name)}; there are: ${scenarios.map((s) => JSON.stringify(s.name)).join(', ')}`);
    }
    return scenario;
  });
}

async function startServers(scenario: Scenario, env: NodeJS.ProcessEnv): Promise<ServerProcess[]> {
  const started: ServerProcess[] = [];
  for (const spec of scenario.servers) {
    const server = await ServerProcess.start(spec.name, spec.script, env);
    live.add(server);
    started.push(server);
  }
  return started;
}

/** Refuses to time a server that answers the scenario's request wrongly. */
async function checkAnswers(scenario: Scenario, servers: ServerProcess[]): Promise<void> {
  for (const [i, server] of servers.entries()) {
    const name = scenario.servers[i]!.name;
    const response = await probe(server.url, scenario.probe);
    const problem = scenario.check(response);
    if (problem !== undefined) throw new Error(`${scenario.name}: ${name} answers wrongly: ${problem}`);
    // The header names side by side show whether the peers really send the same bytes.
    const names = response.headers.map(([header]) => header).join(', ');
    const over = response.tls === undefined ? '' : ` over ${response.tls}`;
    console.log(`  ${name} answers ${response.status} with ${names}: ${response.headLength} head bytes, ${response.body.length} body bytes${over}`);
  }
}

async function measure(scenario: Scenario, options: BenchOptions): Promise<Measured[]> {
  console.log(`\n${scenario.name}`);
  const prepared = scenario.prepare?.();
  try {
    return await measureServers(scenario, options, prepared?.env ?? {});
  } finally {
    prepared?.cleanup();
  }
}

async function measureServers(scenario: Scenario, options: BenchOptions, env: NodeJS.ProcessEnv): Promise<Measured[]> {
  const servers = await startServers(scenario, env);
  try {
    await checkAnswers(scenario, servers);
    const wrk = (server: ServerProcess, seconds: number) => runWrk({
      url: server.url, seconds, connections: options.connections, threads: options.threads, script: scenario.wrkScript,
    });
    if (options.warmup > 0) {
      for (const server of servers) await wrk(server, options.warmup);
    }

    const measured: Measured[] = scenario.servers.map((spec) => ({
      scenario: scenario.name, server: spec.name, baseline: scenario.baseline ?? BASELINE, runs: [], peakRssBytes: undefined,
    }));
    for (let round = 0; round < options.rounds; round += 1) {
      const order = [...servers.keys()];
      if (round % 2 === 1) order.reverse();
      for (const i of order) {
        const server = servers[i]!;
        const before = cpuSeconds(server.pid);
        const result = await wrk(server, options.duration);
        const after = cpuSeconds(server.pid);
        if (!server.running) throw new Error(`${scenario.name}: ${measured[i]!.server} exited during the run`);
        measured[i]!.runs.push({
          ...result,
          cpuSeconds: before === undefined || after === undefined ? undefined : after - before,
        });
        console.error(
          `  round ${round + 1}/${options.rounds} ${measured[i]!.server}: ${result.requestsPerSecond.toFixed(0)} req/s, ` +
            `p50 ${formatMicros(result.p50Micros)}, p99 ${formatMicros(result.p99Micros)}` +
            (result.errors > 0 ? `, ${result.errors} errors` : ''),
        );
      }
    }
    for (const [i, server] of servers.entries()) measured[i]!.peakRssBytes = peakRssBytes(server.pid);
    return measured;
  } finally {
    await stopAll();
  }
}

async function stopAll(): Promise<void> {
  await Promise.all([...live].map((server) => server.stop()));
  live.clear();
}

/** wrk's version line; throws when wrk or the built package is missing. */
async function requireTools(): Promise<string> {
  const wrkVersionLine = await wrkVersion();
  if (wrkVersionLine === undefined) {
    throw new Error('wrk is not installed (Debian/Ubuntu: apt install wrk; macOS: brew install wrk)');
  }
  if (!existsSync(BUILT_PACKAGE)) throw new Error('ferrowsgi is not built: run `npm run build` first');
  return wrkVersionLine;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  // `npm run bench -- soak`: the memory and error soak (bench/soak.ts) instead of the comparison.
  if (argv[0] === 'soak') {
    if (!argv.includes('--help')) console.log(await requireTools());
    return soak(argv.slice(1), live);
  }
  const options = parseOptions(argv, process.env);
  if (options === undefined) return 0;
  const selected = select(options.scenarios);
  const wrkVersionLine = await requireTools();

  const cpu = cpus();
  console.log(`node ${process.version}, ${process.platform} ${process.arch}, ${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown CPU'}`);
  console.log(wrkVersionLine);
  console.log(
    `wrk -t${options.threads} -c${options.connections} -d${options.duration}s --latency; ` +
      `${options.rounds} rounds in alternating order; ${options.warmup} s warm-up per server`,
  );

  const measured: Measured[] = [];
  for (const scenario of selected) measured.push(...(await measure(scenario, options)));
  console.log(`\n${formatTable(measured)}`);
  console.log('\nreq/s, p50 and p99 are medians over the rounds; vs node is req/s over that of node:http (node:https for HTTPS);');
  console.log('CPU us/req is the server process\'s user+system time over all rounds.');
  return 0;
}

// Ctrl-C reaches the servers too (they share the terminal's process group), but a signal sent
// to the harness alone must not leave them running.
for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15]] as const) {
  process.once(signal, () => {
    void stopAll().finally(() => process.exit(128 + number));
  });
}

try {
  process.exitCode = await main();
} catch (err) {
  await stopAll();
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
