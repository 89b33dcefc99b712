// Turns the measured runs into the tables and lines `npm run bench` prints.
import type { WrkRunResult } from './wrk.js';

/** One measured wrk run against one server, with the server's CPU time during it. */
export interface Run extends WrkRunResult {
  /** undefined where /proc is not available. */
  cpuSeconds: number | undefined;
  /** The part of it spent on the JS thread; undefined also for a server that has none. */
  jsThreadCpuSeconds: number | undefined;
}

export interface Measured {
  scenario: string;
  server: string;
  /** The server of the same scenario that `vs node` compares with. */
  baseline: string;
  /** wrk -c of the runs. */
  connections: number;
  /** False where the runs' latencies mean nothing (pipelining): the table shows n/a. */
  latency: boolean;
  runs: Run[];
  /** The server's RSS once it listened, before any request; undefined where /proc is not available. */
  startRssBytes: number | undefined;
  /** undefined where /proc is not available. */
  peakRssBytes: number | undefined;
}

/** One server of an idle-connections scenario. */
export interface IdleMeasured {
  scenario: string;
  server: string;
  baseline: string;
  connections: number;
  /** The server's RSS before the connections were opened, and with all of them open and idle. */
  rssBeforeBytes: number;
  rssAfterBytes: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function formatMicros(micros: number): string {
  if (micros < 1000) return `${micros.toFixed(0)}us`;
  if (micros < 1e6) return `${(micros / 1e3).toFixed(2)}ms`;
  return `${(micros / 1e6).toFixed(2)}s`;
}

function formatBytes(bytes: number): string {
  return Math.abs(bytes) < 2 ** 20 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** CPU per request over every round: one total over another is steadier than a median of ratios. */
function cpuMicrosPerRequest(runs: Run[], seconds: (run: Run) => number | undefined = (run) => run.cpuSeconds): number | undefined {
  let cpu = 0;
  let requests = 0;
  for (const run of runs) {
    const used = seconds(run);
    if (used === undefined) return undefined;
    cpu += used;
    requests += run.requests;
  }
  return requests === 0 ? undefined : cpu / requests * 1e6;
}

/** What the peak RSS grew by over the start RSS, per wrk connection. */
function rssGrowthPerConnection(m: Measured): string {
  return m.startRssBytes === undefined || m.peakRssBytes === undefined
    ? 'n/a'
    : formatBytes((m.peakRssBytes - m.startRssBytes) / m.connections);
}

function ratio(value: number, base: number | undefined): string {
  return base === undefined || base === 0 ? 'n/a' : `${(value / base).toFixed(2)}x`;
}

/** Text columns are left-aligned, numbers right-aligned. */
function layout(columns: string[], left: Set<string>, rows: string[][]): string {
  const widths = columns.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (left.has(columns[i]!) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const rps = (m: Measured): number => median(m.runs.map((run) => run.requestsPerSecond));

export function formatTable(measured: Measured[]): string {
  const rows = measured.map((m) => {
    const base = measured.find((other) => other.scenario === m.scenario && other.server === m.baseline);
    return [
      m.scenario,
      m.server,
      rps(m).toFixed(0),
      m.latency ? formatMicros(median(m.runs.map((run) => run.p50Micros))) : 'n/a',
      m.latency ? formatMicros(median(m.runs.map((run) => run.p99Micros))) : 'n/a',
      ratio(rps(m), base === undefined ? undefined : rps(base)),
      cpuMicrosPerRequest(m.runs)?.toFixed(1) ?? 'n/a',
      cpuMicrosPerRequest(m.runs, (run) => run.jsThreadCpuSeconds)?.toFixed(1) ?? 'n/a',
      cpuMicrosPerRequest(m.runs, (run) => run.wrkCpuSeconds)?.toFixed(1) ?? 'n/a',
      m.peakRssBytes === undefined ? 'n/a' : `${(m.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
      rssGrowthPerConnection(m),
      String(m.runs.reduce((sum, run) => sum + run.errors, 0)),
      m.runs.map((run) => run.requestsPerSecond.toFixed(0)).join(' '),
    ];
  });
  return layout(
    ['scenario', 'server', 'req/s', 'p50', 'p99', 'vs node', 'CPU us/req', 'JS thread', 'wrk', 'peak RSS', 'RSS/conn', 'errors', 'req/s per round'],
    new Set(['scenario', 'server', 'req/s per round']),
    rows,
  );
}

export function formatIdleTable(measured: IdleMeasured[]): string {
  const perConnection = (m: IdleMeasured): number => (m.rssAfterBytes - m.rssBeforeBytes) / m.connections;
  const rows = measured.map((m) => {
    const base = measured.find((other) => other.scenario === m.scenario && other.server === m.baseline);
    return [
      m.scenario,
      m.server,
      m.connections.toLocaleString('en'),
      formatBytes(m.rssBeforeBytes),
      formatBytes(m.rssAfterBytes),
      formatBytes(perConnection(m)),
      ratio(perConnection(m), base === undefined ? undefined : perConnection(base)),
    ];
  });
  return layout(
    ['scenario', 'server', 'connections', 'RSS before', 'RSS idle', 'RSS/conn', 'vs node'],
    new Set(['scenario', 'server']),
    rows,
  );
}

/**
 * `ferrowsgi = N% of rust ceiling`, for every scenario that has both rows: by req/s, and by CPU
 * per request (the ceiling's over ferrowsgi's), which still tells them apart where wrk's own core
 * is the limit of both rates.
 */
export function formatShares(measured: Measured[], of: string): string[] {
  return measured.flatMap((ceiling) => {
    if (ceiling.server !== of) return [];
    const ferrowsgi = measured.find((m) => m.scenario === ceiling.scenario && m.server === 'ferrowsgi');
    if (ferrowsgi === undefined || rps(ceiling) === 0) return [];
    const ceilingCpu = cpuMicrosPerRequest(ceiling.runs);
    const ferrowsgiCpu = cpuMicrosPerRequest(ferrowsgi.runs);
    const byCpu = ceilingCpu === undefined || !ferrowsgiCpu ? '' : `, ${(ceilingCpu / ferrowsgiCpu * 100).toFixed(0)}% by CPU us/req`;
    return [`ferrowsgi = ${(rps(ferrowsgi) / rps(ceiling) * 100).toFixed(0)}% of ${of} in ${ceiling.scenario} by req/s${byCpu}`];
  });
}
