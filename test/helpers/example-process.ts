// Runs a file from examples/ as a user would (`npx tsx examples/X.ts`), on a free port.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningExample {
  url: string;
  output: () => string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop: () => Promise<number | null>;
}

const running = new Set<ChildProcess>();

/** Kills every example a failed test left running. */
export function killExamples(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

export function startExample(file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningExample> {
  const child = spawn(process.execPath, ['--import', 'tsx', `examples/${file}`, ...args], {
    cwd: root,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (data: Buffer) => (output += data.toString('utf8')));
  child.stderr!.on('data', (data: Buffer) => (output += data.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`examples/${file} did not start:\n${output}`)), 15000);
    const onData = () => {
      const match = /listening on (https?:\/\/\S+)/.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({
        url: match[1]!,
        output: () => output,
        stop: async () => {
          child.kill('SIGTERM');
          const code = await exited;
          running.delete(child);
          return code;
        },
      });
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`examples/${file} exited with ${code} before listening:\n${output}`));
    });
  });
}
