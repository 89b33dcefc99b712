// CPU time and memory of a server process, from Linux's /proc. Elsewhere these read as undefined
// and the report shows "n/a": the request rates and latencies do not depend on them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second, the unit of utime and stime in /proc/PID/stat. */
const clockTicks = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User plus system CPU seconds used so far by every thread of the process. */
export function cpuSeconds(pid: number): number | undefined {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/** The same for the process's main thread alone: a Node server's JS thread. */
export function mainThreadCpuSeconds(pid: number): number | undefined {
  return statCpuSeconds(`/proc/${pid}/task/${pid}/stat`);
}

function statCpuSeconds(path: string): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  return cpuSecondsOfStat(stat, 'self');
}

/**
 * User plus system CPU seconds in the text of a /proc/PID/stat: of the process itself, or of
 * the children it has waited for. undefined when the text is not such a line.
 */
export function cpuSecondsOfStat(stat: string, whose: 'self' | 'children'): number | undefined {
  // The command name (field 2) may hold spaces and parentheses; the fields after its closing
  // parenthesis start at field 3, so utime and stime (14, 15) are the 12th and 13th of them,
  // cutime and cstime (16, 17) the 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const first = whose === 'self' ? 11 : 13;
  const seconds = (Number(fields[first]) + Number(fields[first + 1])) / clockTicks;
  return Number.isFinite(seconds) ? seconds : undefined;
}

/** The process's peak resident set size (VmHWM) in bytes. */
export function peakRssBytes(pid: number): number | undefined {
  return statusKib(pid, 'VmHWM');
}

/** The process's resident set size now (VmRSS) in bytes. */
export function rssBytes(pid: number): number | undefined {
  return statusKib(pid, 'VmRSS');
}

/** A `kB` field of /proc/PID/status, in bytes. */
function statusKib(pid: number, field: string): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1];
  return kib === undefined ? undefined : Number(kib) * 1024;
}
