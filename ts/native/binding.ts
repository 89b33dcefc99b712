// Loads the Rust addon and types the bridge described in crates/node/BRIDGE.md.
import { createRequire } from 'node:module';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './package-root.cjs';

export interface NativeListener {
  address(): { host?: string | null; port?: number | null; path?: string | null };
  close(): void;
  isClosed(): boolean;
  isServed(): boolean;
  /** Makes the listener serve TLS. Throws `cert: …`, `key: …` or `ca: …`, naming the input at fault. */
  useTls(cert: Buffer, key: Buffer, ca: Buffer | null, requestCert: boolean): void;
}

export interface NativeServerOptions {
  maxRequests: number;
  urlLengthLimit: number;
  keepaliveTimeoutMs: number;
  socketTimeoutMs: number;
  headerTimeoutMs: number;
}

// Plain constants rather than `const enum`: vitest compiles file by file and cannot inline those.

/** Body framing of `respond` (BRIDGE.md): `n >= 0` is a Content-Length, the rest are these. */
export const Framing = { Chunked: -1, UntilClose: -2, None: -3 } as const;

/** Why a connection closed (CLOSED, BRIDGE.md). */
export const CloseCause = {
  /** The client closed or reset it, or a write to it failed. */
  Ended: 0,
  /** A read or write made no progress for `socketTimeout`. */
  TimedOut: 1,
  /** `close()`'s timeout aborted it. */
  Aborted: 2,
} as const;
export type CloseCause = (typeof CloseCause)[keyof typeof CloseCause];

/** Flags of `respond` and `write`. */
export const WriteFlag = { End: 1, KeepAlive: 2, Notify: 4, Cork: 8 } as const;

/** Flags of a REQUEST event. */
export const RequestFlag = {
  Http11: 1,
  /** Bits 1-2: 0 no body, `BodyLength`, or `BodyChunked`. */
  BodyFraming: 6,
  BodyLength: 2,
  BodyChunked: 4,
  BodyComplete: 8,
  ExpectContinue: 16,
  ConnectionClose: 32,
  ConnectionKeepAlive: 64,
  Tls: 128,
  PipelinedNext: 256,
  /** The core sends the rest of the body in DATA events without being asked (`read`). */
  BodyPushed: 512,
} as const;

export interface NativeServer {
  respond(conn: number, head: string, framing: number, body: string | Buffer | null, flags: number): boolean;
  write(conn: number, body: string | Buffer, flags: number): boolean;
  uncork(conn: number): void;
  interim(conn: number, head: string): void;
  read(conn: number, max: number, fill: boolean): void;
  rearm(conn: number): void;
  abort(conn: number): void;
  close(): void;
  abortAll(): void;
}

export interface NativeBinding {
  listenTcp(host: string, port: number, backlog: number, reuseAddr: boolean, reusePort: boolean): NativeListener;
  listenUnix(path: string, backlog: number): NativeListener;
  NativeServer: new (
    listener: NativeListener,
    onEvents: (batch: Buffer, payloads: Buffer[] | undefined) => void,
    options: NativeServerOptions,
  ) => NativeServer;
}

/** On Linux, whether Node runs on glibc (false: musl). */
function isGlibc(): boolean {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return Boolean(report?.header?.glibcVersionRuntime);
}

/** The platform part of the file names that `napi build --platform` produces in native/. */
function platformTriple(): string {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform === 'win32') return `${base}-msvc`;
  if (process.platform !== 'linux') return base;
  return isGlibc() ? `${base}-gnu` : `${base}-musl`;
}

/**
 * prebuildify's layout: one folder per `<platform>-<arch>`, with a libc tag for musl builds so
 * that a glibc binary is never loaded into a musl process (scripts/prebuild.mjs names them).
 */
function prebuildPath(): string {
  const file = process.platform === 'linux' && !isGlibc() ? 'ferrowsgi.musl.node' : 'ferrowsgi.node';
  return join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, file);
}

/** The platforms the package ships binaries for, as `npm run prebuild` laid them out. */
function includedPlatforms(): string[] {
  const dir = join(packageRoot, 'prebuilds');
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const platform of readdirSync(dir).sort()) {
    if (existsSync(join(dir, platform, 'ferrowsgi.node'))) found.push(platform);
    if (existsSync(join(dir, platform, 'ferrowsgi.musl.node'))) found.push(`${platform} (musl)`);
  }
  return found;
}

function buildFromSourceHint(): string {
  const target = `${process.platform}-${process.arch}`;
  return (
    'To build the addon from source you need a Rust toolchain (https://rustup.rs) and a checkout of ' +
    'the ferrowsgi repository: there, `npm install` builds it, and then either install ferrowsgi from ' +
    `that checkout (npm install /path/to/checkout), or run \`npm run prebuild\` and copy prebuilds/${target}/ ` +
    `into ${join(packageRoot, 'prebuilds')}.`
  );
}

/**
 * A local build from source (native/, made by `npm run build:native` in a checkout) comes first,
 * as node-gyp-build does with build/Release: in a checkout the addon just rebuilt must not be
 * shadowed by an older prebuild. The published package ships no native/, so users get the
 * prebuilt binary for their platform.
 */
function loadBinding(): NativeBinding {
  const candidates = [join(packageRoot, 'native', `ferrowsgi.${platformTriple()}.node`), prebuildPath()];
  const require = createRequire(join(packageRoot, 'package.json'));
  const failures: string[] = [];
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    try {
      return require(path) as NativeBinding;
    } catch (err) {
      // Usually a binary for another libc or an older system: say which file and why.
      failures.push(`  ${path}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  const target = `${process.platform}-${process.arch}${process.platform === 'linux' && !isGlibc() ? ' (musl)' : ''}`;
  const included = includedPlatforms();
  const head = failures.length > 0
    ? `ferrowsgi: the native addon for ${target} failed to load:\n${failures.join('')}`
    : `ferrowsgi: no native addon for ${target}. Looked for:\n${candidates.map((path) => `  ${path}\n`).join('')}`;
  throw new Error(
    head +
      (included.length > 0
        ? `This package includes prebuilt binaries for: ${included.join(', ')}.\n`
        : 'This package includes no prebuilt binaries.\n') +
      buildFromSourceHint(),
  );
}

export const native: NativeBinding = loadBinding();
