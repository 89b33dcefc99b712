// One benchmarked server in its own process, so that it shares its JS thread with nothing else:
// not with the other server, not with this harness.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** The command that runs a server script with node itself, through tsx's loader. */
export function nodeScript(script: string): [string, ...string[]] {
  return [process.execPath, '--import', 'tsx', script];
}

function stderrEnd(tail: string): string {
  return tail.trim() === '' ? '' : `; its stderr ends with:\n${tail.trim()}`;
}

/** How long a server may take to print its `listening on` line. */
const START_TIMEOUT_MS = 20_000;
/** How much of a server's stderr to keep for the error message if it fails. */
const STDERR_TAIL = 4000;

export class ServerProcess {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #stderr: { tail: string };

  private constructor(child: ChildProcess, url: string, exited: Promise<void>, stderr: { tail: string }) {
    this.#child = child;
    this.url = url;
    this.#exited = exited;
    this.#stderr = stderr;
  }

  get pid(): number {
    return this.#child.pid!;
  }

  /** False once the process has exited: a crash in the middle of a run spoils its numbers. */
  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /**
   * Runs `command` (not through npx or a shell, so that `pid` is the server's own process and
   * /proc/PID/stat counts only its CPU) and waits for its `listening on URL` line.
   */
  static async start(name: string, command: readonly [string, ...string[]], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
    const [program, ...args] = command;
    const file = command[command.length - 1];
    const child = spawn(program, args, {
      env: { ...process.env, ...env, PORT: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr = { tail: '' };
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      stderr.tail = (stderr.tail + text).slice(-STDERR_TAIL);
    });
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));

    const fail = (why: string): Error => new Error(`${name} (${file}) ${why}${stderrEnd(stderr.tail)}`);
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(fail(`printed no "listening on" line within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      // Lines after the first keep being read, so that a chatty server never blocks on a full pipe.
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const url = /^listening on (https?:\/\/\S+)$/.exec(line)?.[1];
        if (url !== undefined) {
          clearTimeout(timer);
          resolve(url);
        }
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(fail(`could not be started: ${err.message}`));
      });
      // 'close' rather than 'exit': it comes after stderr has been read to the end.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        reject(fail(`exited before listening (${signal ?? `status ${code}`})`));
      });
    }).catch(async (err: unknown) => {
      child.kill('SIGKILL');
      await exited;
      throw err;
    });
    return new ServerProcess(child, url, exited, stderr);
  }

  /** How the process ended and the end of its stderr, for the error when it dies in a run. */
  async exitReport(): Promise<string> {
    await this.#exited; // by then stderr has been read to its end
    const { exitCode, signalCode } = this.#child;
    return `${signalCode ?? `status ${exitCode}`}${stderrEnd(this.#stderr.tail)}`;
  }

  async stop(): Promise<void> {
    if (!this.running) return this.#exited;
    this.#child.kill('SIGTERM');
    const killer = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
    await this.#exited;
    clearTimeout(killer);
  }
}
