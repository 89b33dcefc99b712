#!/usr/bin/env node
// `ferrowsgi MODULE[:EXPORT] [options]`: serves an app from the command line, the way gunicorn
// and granian serve Python apps. `ferrowsgi --help` lists the options (ts/cli/args.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HELP, parseCommandLine } from './cli/args.js';
import { StartError, UsageError } from './cli/errors.js';
import { packageRoot } from './native/package-root.cjs';

function version(): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

/**
 * The server side is loaded only now, so that --help and --version work where the native addon
 * does not; when it does not load, its message (the platforms the package has, how to build
 * one) is the whole story, without a stack trace.
 */
async function loadRunner(): Promise<typeof import('./cli/run.js').run> {
  try {
    return (await import('./cli/run.js')).run;
  } catch (err) {
    throw new StartError(err instanceof Error ? err.message.replace(/^ferrowsgi: /, '') : String(err));
  }
}

/** Resolves with the exit status. */
async function main(argv: readonly string[]): Promise<number> {
  try {
    const command = parseCommandLine(argv);
    if (command.kind === 'help') {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (command.kind === 'version') {
      process.stdout.write(`ferrowsgi ${version()}\n`);
      return 0;
    }
    await (await loadRunner())(command.config);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`ferrowsgi: ${err.message}\n`);
      return 2;
    }
    if (err instanceof StartError) {
      process.stderr.write(`ferrowsgi: ${err.message}\n`);
      return 1;
    }
    // The app failed while it loaded, or the addon did: the whole message and stack help here.
    process.stderr.write(`ferrowsgi: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

/** Waits for stdout and stderr to drain (pipes are asynchronous on macOS and Windows), then exits. */
function exit(status: number): void {
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(status);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

// Exit explicitly: the app may hold timers or sockets of its own (a pool, a request dropped after
// --graceful-timeout still awaiting something) that would keep a closed server's process alive.
exit(await main(process.argv.slice(2)));
