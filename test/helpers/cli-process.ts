// Runs the CLI (ts/cli.ts, through tsx) as a child process, the way a user runs `npx ferrowsgi`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const cliFixtures = join(root, 'test', 'fixtures', 'cli');
/** tsx by its own path: a working directory outside the repository has no node_modules/tsx. */
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface CliProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first match of `pattern` in stdout + stderr, as output arrives. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>;
}

const running = new Set<ChildProcess>();

/** Kills every CLI process a test left running (call from afterEach). */
export function killClis(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

export interface SpawnOptions {
  cwd?: string;
  /** A limit on the process's open files, set with util-linux `prlimit` (Linux only). */
  openFiles?: number;
}

export function spawnCli(args: string[], { cwd = cliFixtures, openFiles }: SpawnOptions = {}): CliProcess {
  const command = [process.execPath, '--import', tsxLoader, join(root, 'ts', 'cli.ts'), ...args];
  if (openFiles !== undefined) command.unshift('prlimit', `--nofile=${openFiles}:${openFiles}`);
  const child = spawn(command[0]!, command.slice(1), {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (data: Buffer) => {
    stdout += data.toString('utf8');
    for (const listener of listeners) listener();
  });
  child.stderr!.on('data', (data: Buffer) => {
    stderr += data.toString('utf8');
    for (const listener of listeners) listener();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      running.delete(child);
      for (const listener of listeners) listener();
      resolve({ code, signal });
    });
  });
  let done = false;
  void exited.then(() => (done = true));

  const waitFor = (pattern: RegExp, timeoutMs = 15000): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const match = pattern.exec(stdout + stderr);
        if (match) {
          finish();
          resolve(match);
        } else if (done) {
          finish();
          reject(new Error(`the CLI exited before printing ${pattern}:\n${stdout}${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`the CLI did not print ${pattern} within ${timeoutMs} ms:\n${stdout}${stderr}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  return { child, stdout: () => stdout, stderr: () => stderr, exited, waitFor };
}

export interface StartedCli extends CliProcess {
  /** The addresses from the `listening on` lines, in --bind order. */
  addresses: string[];
}

/** Spawns the CLI and resolves once it serves (its `serving` line). */
export async function startCli(args: string[], options: SpawnOptions = {}): Promise<StartedCli> {
  const cli = spawnCli(args, options);
  await cli.waitFor(/^ferrowsgi: serving /m);
  const addresses = [...cli.stderr().matchAll(/^ferrowsgi: listening on (\S+)$/gm)].map((match) => match[1]!);
  return { ...cli, addresses };
}

/** Runs the CLI to its end (for --help, --version and the failures) and returns what it printed. */
export async function runCli(args: string[], cwd = cliFixtures): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = spawnCli(args, { cwd });
  const { code } = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}
