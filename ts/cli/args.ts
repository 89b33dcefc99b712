// The command line of `ferrowsgi MODULE[:EXPORT] [options]`: parsed and checked in one place, so
// that a mistake is one clear line before anything is loaded or bound.
import { parseArgs } from 'node:util';
import { AccessLog } from '../access-log.js';
import type { ServerOptions } from '../options.js';
import { parseBind, type Bind } from './bind.js';
import { UsageError } from './errors.js';

export interface RunConfig {
  /** The module path, as given (resolved against the working directory when loaded). */
  module: string;
  /** The export that holds the app. */
  exportName: string;
  binds: Bind[];
  certfile: string | undefined;
  keyfile: string | undefined;
  backlog: number | undefined;
  reusePort: boolean;
  /** Seconds requests in progress get after SIGINT or SIGTERM. */
  gracefulTimeout: number;
  server: ServerOptions;
}

export type Command = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; config: RunConfig };

/** gunicorn's default address. */
export const DEFAULT_BIND = '127.0.0.1:8000';
/** gunicorn's --graceful-timeout default. */
export const DEFAULT_GRACEFUL_TIMEOUT = 30;
/** Without `:EXPORT`, as gunicorn's `module:app` habit. */
export const DEFAULT_EXPORT = 'app';

export const HELP = `Usage: ferrowsgi MODULE[:EXPORT] [options]

Serves the WSGI-style app exported as EXPORT (default: ${DEFAULT_EXPORT}) by the JavaScript module at
MODULE (a file path, relative to the working directory; .js, .mjs and .cjs may be left out).
SIGINT or SIGTERM closes the server gracefully; a second one exits at once.

Options:
  -b, --bind ADDRESS            HOST:PORT, [IPV6]:PORT, HOST (port 8000), :PORT (every
                                interface) or unix:PATH (not on Windows); repeat to listen on several
                                (default: ${DEFAULT_BIND})
      --backlog N               pending-connection queue length (default: 50)
      --reuse-port              set SO_REUSEPORT, so that several processes share a port
                                (not on Windows)
      --certfile FILE           serve HTTPS with this PEM certificate (needs --keyfile)
      --keyfile FILE            the PEM private key of --certfile
      --keepalive SECONDS       idle keep-alive timeout; 0: one request per connection
                                (default: keep-alive without a timeout)
      --socket-timeout SECONDS  drop a connection whose read or write stalls this long
      --max-size N              most requests in progress at once (default: 1024)
      --max-http-version V      1.0 or 1.1 (default: 1.1)
      --url-length-limit N      longest request line, else 414 (default: 8192)
      --minimum-chunk-size N    bytes buffered before a chunk is written (default: 4096)
      --log-format FORMAT       access log template, Python %(key)s style
      --no-access-log           no access log lines (errors are still logged)
      --no-log-x-forwarded-for  log the peer address, not X-Forwarded-For
      --no-debug                500 responses carry no stack trace
      --graceful-timeout SECONDS
                                how long requests in progress may run after a signal
                                (default: ${DEFAULT_GRACEFUL_TIMEOUT})
  -h, --help                    show this help
  -v, --version                 show the version

The access log and errors go to stderr.`;

const OPTIONS = {
  bind: { type: 'string', short: 'b', multiple: true },
  backlog: { type: 'string' },
  'reuse-port': { type: 'boolean' },
  certfile: { type: 'string' },
  keyfile: { type: 'string' },
  keepalive: { type: 'string' },
  'socket-timeout': { type: 'string' },
  'max-size': { type: 'string' },
  'max-http-version': { type: 'string' },
  'url-length-limit': { type: 'string' },
  'minimum-chunk-size': { type: 'string' },
  'log-format': { type: 'string' },
  'no-access-log': { type: 'boolean' },
  'no-log-x-forwarded-for': { type: 'boolean' },
  'no-debug': { type: 'boolean' },
  'graceful-timeout': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

const DECIMAL = /^\d+(\.\d+)?$/;
const INTEGER = /^\d+$/;
/** The bridge carries milliseconds as u32 (as ts/options.ts checks). */
const MAX_SECONDS = 0xffffffff / 1000;

function seconds(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!DECIMAL.test(text) || value > MAX_SECONDS) {
    throw new UsageError(`--${option} must be a number of seconds from 0 to ${MAX_SECONDS}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function integer(option: string, text: string | undefined, min: number, max = 0xffffffff): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!INTEGER.test(text) || value < min || value > max) {
    throw new UsageError(`--${option} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** The template, once the access log has compiled it: a bad one is a mistake on the command line. */
function logFormat(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    new AccessLog(text, false);
  } catch (err) {
    throw new UsageError(`--log-format: ${(err as Error).message.replace(/^server: logFormat /, '')}`);
  }
  return text;
}

function httpVersion(text: string | undefined): ServerOptions['maxHttpVersion'] {
  if (text === undefined) return undefined;
  const version = text.toUpperCase().replace(/^HTTP\//, '');
  if (version === '1.0' || version === '1.1') return `HTTP/${version}`;
  throw new UsageError(`--max-http-version must be 1.0 or 1.1, got ${JSON.stringify(text)}`);
}

/** `MODULE[:EXPORT]`: the last colon splits only when an identifier follows it (so C:\app.js stays whole). */
export function splitTarget(target: string): { module: string; exportName: string } {
  const match = /^(.+):([A-Za-z_$][\w$]*)$/.exec(target);
  const module = match ? match[1]! : target;
  const exportName = match ? match[2]! : DEFAULT_EXPORT;
  if (module === '' || module.startsWith(':') || module.endsWith(':')) throw new UsageError(`no module in ${JSON.stringify(target)}; expected MODULE[:EXPORT]`);
  return { module, exportName };
}

/** Drops a server option left undefined, so that server() applies its own default. */
function defined(options: ServerOptions): ServerOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as ServerOptions;
}

export function parseCommandLine(argv: readonly string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs explains the mistake well; its advice about '--' does not apply here.
    const message = err instanceof Error ? err.message.replace(/\. To specify a positional argument.*$/s, '') : String(err);
    throw new UsageError(message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };

  if (positionals.length === 0) throw new UsageError('no app given; usage: ferrowsgi MODULE[:EXPORT] [options]');
  if (positionals.length > 1) {
    throw new UsageError(`one MODULE[:EXPORT] expected, got ${positionals.map((p) => JSON.stringify(p)).join(', ')}`);
  }
  const { module, exportName } = splitTarget(positionals[0]!);

  if ((values.certfile === undefined) !== (values.keyfile === undefined)) {
    throw new UsageError('--certfile and --keyfile go together');
  }

  const keepalive = seconds('keepalive', values.keepalive);
  const server = defined({
    // eventlet: keepalive=0 is the same as keepalive=False.
    keepalive,
    socketTimeout: seconds('socket-timeout', values['socket-timeout']),
    maxSize: integer('max-size', values['max-size'], 1),
    maxHttpVersion: httpVersion(values['max-http-version']),
    urlLengthLimit: integer('url-length-limit', values['url-length-limit'], 1),
    minimumChunkSize: integer('minimum-chunk-size', values['minimum-chunk-size'], 0, Number.MAX_SAFE_INTEGER),
    logFormat: logFormat(values['log-format']),
    logOutput: values['no-access-log'] ? false : undefined,
    logXForwardedFor: values['no-log-x-forwarded-for'] ? false : undefined,
    debug: values['no-debug'] ? false : undefined,
  });

  return {
    kind: 'run',
    config: {
      module,
      exportName,
      binds: (values.bind ?? [DEFAULT_BIND]).map(parseBind),
      certfile: values.certfile,
      keyfile: values.keyfile,
      backlog: integer('backlog', values.backlog, 0, 0x7fffffff),
      reusePort: values['reuse-port'] ?? false,
      gracefulTimeout: seconds('graceful-timeout', values['graceful-timeout']) ?? DEFAULT_GRACEFUL_TIMEOUT,
      server,
    },
  };
}
