#!/usr/bin/env node
// `npm run prebuild [-- --target TRIPLE]`: builds the native addon in release mode (for the Rust
// host, or for TRIPLE) and lays it out as prebuildify does, so that the package can ship it:
//
//   prebuilds/<platform>-<arch>/ferrowsgi.node        glibc Linux, macOS, Windows
//   prebuilds/<platform>-<arch>/ferrowsgi.musl.node   musl Linux (Alpine)
//
// ts/native/binding.ts looks there in an installed package. The build itself is `npm run
// build:native`, so its flags live in one place (package.json). npm also runs this script before
// `npm run build`, as the `pre` hook of `build`: harmless, the second build finds nothing to do.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTriple } from '@napi-rs/cli';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function fail(message) {
  console.error(`prebuild: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  let target;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--target' || arg === '-t') target = argv[++i];
    else if (arg.startsWith('--target=')) target = arg.slice('--target='.length);
    else fail(`unknown argument ${JSON.stringify(arg)}; usage: npm run prebuild [-- --target TRIPLE]`);
    if (target === undefined || target === '') fail('--target needs a Rust target triple');
  }
  return { target };
}

/** The triple cargo builds for without --target. */
function hostTriple() {
  const result = spawnSync('rustc', ['-vV'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    fail(`cannot run rustc (${result.error?.message ?? result.stderr.trim()}): building the addon needs a Rust toolchain, https://rustup.rs`);
  }
  const host = /^host: (\S+)$/m.exec(result.stdout);
  if (!host) fail(`cannot read the host triple from \`rustc -vV\`:\n${result.stdout}`);
  return host[1];
}

/** Runs `npm run build:native` with the same npm that runs this script, where there is one. */
function buildNative(target) {
  const args = ['run', 'build:native', ...(target ? ['--', '--target', target] : [])];
  const npmCli = process.env.npm_execpath;
  const result = npmCli && npmCli.endsWith('.js')
    ? spawnSync(process.execPath, [npmCli, ...args], { cwd: root, stdio: 'inherit' })
    : spawnSync('npm', args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.error) fail(`cannot run npm: ${result.error.message}`);
  if (result.status !== 0) fail(`npm run build:native failed (exit status ${result.status})`);
}

const { target } = parseArgs(process.argv.slice(2));
const triple = parseTriple(target ?? hostTriple());
buildNative(target);

const built = join(root, 'native', `ferrowsgi.${triple.platformArchABI}.node`);
if (!existsSync(built)) fail(`the build did not produce ${built}`);

const folder = join(root, 'prebuilds', `${triple.platform}-${triple.arch}`);
const file = triple.abi === 'musl' ? 'ferrowsgi.musl.node' : 'ferrowsgi.node';
mkdirSync(folder, { recursive: true });
// Copy, then rename into place: a process that has the previous file loaded keeps its own copy
// instead of seeing it rewritten under it.
const partial = join(folder, `.${file}.${process.pid}.partial`);
copyFileSync(built, partial);
renameSync(partial, join(folder, file));
console.log(`prebuild: ${join('prebuilds', `${triple.platform}-${triple.arch}`, file)} (${triple.triple})`);
