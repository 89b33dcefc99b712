// `npm run bench`: ferrowsgi beside node:http and other peers in one run, scenario by scenario.
// Each server runs in its own process; wrk measures them in alternating order (A B, B A, ...) so
// that a drift in the machine's speed does not favour any; the table shows medians over the rounds.
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { descriptorShortage, openIdleConnections } from './idle.js';
import { parseOptions, type BenchOptions } from './options.js';
import { probe } from './probe.js';
import { cpuSeconds, mainThreadCpuSeconds, peakRssBytes, rssBytes } from './proc-stats.js';
import { formatIdleTable, formatMicros, formatShares, formatTable, type IdleMeasured, type Measured } from './report.js';
import { BASELINE, CEILING, scenarios, type Scenario, type ServerSpec } from './scenarios.js';
import { nodeScript, ServerProcess } from './server-process.js';
import { soak } from './soak.js';
import { runWrk, wrkVersion } from './wrk.js';

/** What `import 'ferrowsgi'` loads in the server scripts. */
const BUILT_PACKAGE = fileURLToPath(new URL('../dist/index.js', import.meta.url));
/**
 * How long idle connections are left alone before the server's RSS is read: long enough for the
 * servers to have freed what answering their one request took.
 */
const IDLE_SETTLE_MS = 2000;

/** Servers running right now, stopped on the way out whatever the way is. */
const live = new Set<ServerProcess>();

interface Started {
  spec: ServerSpec;
  server: ServerProcess;
  /** Its RSS once it listened, before any request: what its peak RSS grew from. */
  startRssBytes: number | undefined;
}

interface Results {
  measured: Measured[];
  idle: IdleMeasured[];
}

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

function command(spec: ServerSpec): [string, ...string[]] {
  return 'script' in spec ? nodeScript(spec.script) : [spec.executable()];
}

/** Starts the scenario's servers, leaving out (with the reason) the optional ones that cannot start. */
async function startServers(scenario: Scenario, env: NodeJS.ProcessEnv): Promise<Started[]> {
  // Every command first: a build (the rust ceiling's) must not share the CPU with servers already up.
  const commands = scenario.servers.map(command);
  const started: Started[] = [];
  for (const [i, spec] of scenario.servers.entries()) {
    let server: ServerProcess;
    try {
      server = await ServerProcess.start(spec.name, commands[i]!, env);
    } catch (err) {
      if (!spec.optional) throw err;
      console.log(`  ${spec.name} left out: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    live.add(server);
    started.push({ spec, server, startRssBytes: rssBytes(server.pid) });
  }
  return started;
}

/** Refuses to time a server that answers the scenario's request wrongly. */
async function checkAnswers(scenario: Scenario, servers: Started[]): Promise<void> {
  for (const { spec, server } of servers) {
    const response = await probe(server.url, scenario.probe);
    const problem = scenario.check(response);
    if (problem !== undefined) throw new Error(`${scenario.name}: ${spec.name} answers wrongly: ${problem}`);
    // The header names side by side show whether the peers really send the same bytes.
    const names = response.headers.map(([header]) => header).join(', ');
    const over = response.tls === undefined ? '' : ` over ${response.tls}`;
    console.log(`  ${spec.name} answers ${response.status} with ${names}: ${response.headLength} head bytes, ${response.body.length} body bytes${over}`);
  }
}

/** Why the idle scenario cannot run here, or undefined when it can. */
function idleShortage(count: number): string | undefined {
  if (rssBytes(process.pid) === undefined) return 'the servers\' RSS cannot be read here (/proc is needed)';
  return descriptorShortage(count);
}

/** The wrk flags that differ from the run's, for the scenario's title. */
function wrkFlags(scenario: Scenario, options: BenchOptions): string {
  const flags = [
    ...(scenario.connections !== undefined && scenario.connections !== options.connections ? [`-c${scenario.connections}`] : []),
    ...(scenario.wrkTimeoutSeconds === undefined ? [] : [`--timeout ${scenario.wrkTimeoutSeconds}s`]),
  ];
  return flags.length === 0 ? '' : ` (wrk ${flags.join(' ')})`;
}

async function measure(scenario: Scenario, options: BenchOptions, results: Results): Promise<void> {
  const count = scenario.idleConnections;
  console.log(`\n${scenario.name}${count === undefined ? wrkFlags(scenario, options) : ''}`);
  const shortage = count === undefined ? undefined : idleShortage(count);
  if (shortage !== undefined) {
    console.log(`  left out: ${shortage}`);
    return;
  }
  const prepared = scenario.prepare?.();
  try {
    const servers = await startServers(scenario, prepared?.env ?? {});
    await checkAnswers(scenario, servers);
    if (count === undefined) results.measured.push(...(await measureWrk(scenario, options, servers)));
    else results.idle.push(...(await measureIdle(scenario, count, servers)));
  } finally {
    await stopAll();
    prepared?.cleanup();
  }
}

async function measureWrk(scenario: Scenario, options: BenchOptions, servers: Started[]): Promise<Measured[]> {
  const connections = scenario.connections ?? options.connections;
  const wrk = (server: ServerProcess, seconds: number) => runWrk({
    url: new URL(scenario.probe.path, server.url).href,
    seconds,
    connections,
    threads: Math.min(options.threads, connections),
    script: scenario.wrkScript,
    scriptArgs: scenario.wrkScriptArgs,
    timeoutSeconds: scenario.wrkTimeoutSeconds,
  });
  if (options.warmup > 0) {
    for (const { server } of servers) await wrk(server, options.warmup);
  }

  const measured: Measured[] = servers.map(({ spec, startRssBytes }) => ({
    scenario: scenario.name,
    server: spec.name,
    baseline: scenario.baseline ?? BASELINE,
    connections,
    latency: scenario.wrkLatency ?? true,
    runs: [],
    startRssBytes,
    peakRssBytes: undefined,
  }));
  // Only a Node server's main thread is its JS thread; the Rust ceiling's does no work.
  const jsThreadCpu = (i: number): number | undefined => ('script' in servers[i]!.spec ? mainThreadCpuSeconds(servers[i]!.server.pid) : undefined);
  for (let round = 0; round < options.rounds; round += 1) {
    const order = [...servers.keys()];
    if (round % 2 === 1) order.reverse();
    for (const i of order) {
      const { server } = servers[i]!;
      const before = cpuSeconds(server.pid);
      const jsBefore = jsThreadCpu(i);
      const result = await wrk(server, options.duration);
      const after = cpuSeconds(server.pid);
      const jsAfter = jsThreadCpu(i);
      if (!server.running) throw new Error(`${scenario.name}: ${measured[i]!.server} exited during the run (${await server.exitReport()})`);
      measured[i]!.runs.push({
        ...result,
        cpuSeconds: before === undefined || after === undefined ? undefined : after - before,
        jsThreadCpuSeconds: jsBefore === undefined || jsAfter === undefined ? undefined : jsAfter - jsBefore,
      });
      console.error(
        `  round ${round + 1}/${options.rounds} ${measured[i]!.server}: ${result.requestsPerSecond.toFixed(0)} req/s` +
          (measured[i]!.latency ? `, p50 ${formatMicros(result.p50Micros)}, p99 ${formatMicros(result.p99Micros)}` : '') +
          (result.errors > 0 ? `, ${result.errors} errors` : ''),
      );
    }
  }
  for (const [i, { server }] of servers.entries()) measured[i]!.peakRssBytes = peakRssBytes(server.pid);
  return measured;
}

/**
 * One server at a time: its RSS, then `count` connections that each get one answer and stay
 * idle, then its RSS again. Memory does not drift with the machine's speed as request rates do,
 * so one measurement per server is enough.
 */
async function measureIdle(scenario: Scenario, count: number, servers: Started[]): Promise<IdleMeasured[]> {
  const measured: IdleMeasured[] = [];
  for (const { spec, server } of servers) {
    const before = rssBytes(server.pid)!;
    const opening = performance.now();
    const connections = await openIdleConnections(server.url, scenario.probe, count);
    try {
      const opened = (performance.now() - opening) / 1000;
      await sleep(IDLE_SETTLE_MS);
      const after = rssBytes(server.pid);
      if (after === undefined || !server.running) {
        throw new Error(`${scenario.name}: ${spec.name} exited with its idle connections open (${await server.exitReport()})`);
      }
      if (connections.lost > 0) {
        throw new Error(`${scenario.name}: ${spec.name} closed ${connections.lost} of its ${count} idle connections within ${IDLE_SETTLE_MS / 1000} s`);
      }
      console.error(`  ${spec.name}: ${count.toLocaleString('en')} connections answered in ${opened.toFixed(1)} s, then idle for ${IDLE_SETTLE_MS / 1000} s`);
      measured.push({
        scenario: scenario.name,
        server: spec.name,
        baseline: scenario.baseline ?? BASELINE,
        connections: count,
        rssBeforeBytes: before,
        rssAfterBytes: after,
      });
    } finally {
      connections.close();
    }
  }
  return measured;
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

  const results: Results = { measured: [], idle: [] };
  for (const scenario of selected) await measure(scenario, options, results);
  if (results.measured.length > 0) {
    console.log(`\n${formatTable(results.measured)}`);
    console.log('\nreq/s, p50 and p99 are medians over the rounds; vs node is req/s over that of node:http (node:https for HTTPS);');
    console.log('CPU us/req is the server process\'s user+system time over all rounds, and JS thread the part of it on the');
    console.log('main thread (a server that does all its work there answers at most 1e6 / that many requests a second);');
    console.log('wrk is wrk\'s own CPU time per request, which it spends on the same two cores; RSS/conn is the server\'s');
    console.log('peak RSS less its RSS before the first request, over wrk\'s connections.');
  }
  if (results.idle.length > 0) {
    console.log(`\n${formatIdleTable(results.idle)}`);
    console.log('\nRSS/conn is the RSS with every connection open and idle less the RSS before, over the connections;');
    console.log('vs node is that over node:http\'s (node:https\'s for TLS; lower is less memory).');
  }
  const shares = formatShares(results.measured, CEILING);
  if (shares.length > 0) console.log(`\n${shares.join('\n')}`);
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
