// Turns the measured runs into the table `npm run bench` prints.
import type { WrkResult } from './wrk.js';

/** One measured wrk run against one server, with the server's CPU time during it. */
export interface Run extends WrkResult {
  /** undefined where /proc is not available. */
  cpuSeconds: number | undefined;
}

export interface Measured {
  scenario: string;
  server: string;
  /** The server of the same scenario that `vs node` compares with. */
  baseline: string;
  runs: Run[];
  /** undefined where /proc is not available. */
  peakRssBytes: number | undefined;
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

/** CPU per request over every round: one total over another is steadier than a median of ratios. */
function cpuMicrosPerRequest(runs: Run[]): string {
  let cpu = 0;
  let requests = 0;
  for (const run of runs) {
    if (run.cpuSeconds === undefined) return 'n/a';
    cpu += run.cpuSeconds;
    requests += run.requests;
  }
  return requests === 0 ? 'n/a' : (cpu / requests * 1e6).toFixed(1);
}

const COLUMNS = ['scenario', 'server', 'req/s', 'p50', 'p99', 'vs node', 'CPU us/req', 'peak RSS', 'errors', 'req/s per round'];
/** Text columns are left-aligned, numbers right-aligned. */
const LEFT = new Set(['scenario', 'server', 'req/s per round']);

export function formatTable(measured: Measured[]): string {
  const rows = measured.map((m) => {
    const rps = median(m.runs.map((run) => run.requestsPerSecond));
    const base = measured.find((other) => other.scenario === m.scenario && other.server === m.baseline);
    const baseRps = base === undefined ? undefined : median(base.runs.map((run) => run.requestsPerSecond));
    return [
      m.scenario,
      m.server,
      rps.toFixed(0),
      formatMicros(median(m.runs.map((run) => run.p50Micros))),
      formatMicros(median(m.runs.map((run) => run.p99Micros))),
      baseRps === undefined || baseRps === 0 ? 'n/a' : `${(rps / baseRps).toFixed(2)}x`,
      cpuMicrosPerRequest(m.runs),
      m.peakRssBytes === undefined ? 'n/a' : `${(m.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
      String(m.runs.reduce((sum, run) => sum + run.errors, 0)),
      m.runs.map((run) => run.requestsPerSecond.toFixed(0)).join(' '),
    ];
  });
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (LEFT.has(COLUMNS[i]!) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(COLUMNS), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
