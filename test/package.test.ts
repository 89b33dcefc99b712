// The package as users get it: `npm pack`, then `npm install --offline` of the tarball into a
// fresh project on a PATH without cargo, rustc or rustup, so only the prebuilt binary inside the
// package can make it work. Then ESM `import`, CommonJS `require`, the types and the `ferrowsgi`
// bin each serve or check something real.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { root } from './helpers/cli-process.js';

const work = mkdtempSync(join(tmpdir(), 'ferrowsgi-package-'));
const project = join(work, 'project');
const prebuild = `${process.platform}-${process.arch}`;
/** npm runs with the same Node as the tests; npm_execpath is set when they run under npm or npx. */
const npmCli = process.env.npm_execpath?.endsWith('.js') ? process.env.npm_execpath : undefined;

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The environment of a user without a Rust toolchain: PATH without the folders that hold one. */
function userEnv(): NodeJS.ProcessEnv {
  const pathKey = Object.keys(process.env).find((key) => key.toUpperCase() === 'PATH') ?? 'PATH';
  const tools = ['cargo', 'rustc', 'rustup'].flatMap((tool) => [tool, `${tool}.exe`]);
  const dirs = (process.env[pathKey] ?? '').split(delimiter).filter((dir) => dir !== '');
  const kept = dirs.filter((dir) => !tools.some((tool) => existsSync(join(dir, tool))));
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // Nothing of the npm run that started the tests, and no hint of a Rust install.
    if (/^(npm_|CARGO|RUSTUP|RUSTC)/i.test(key) || key === pathKey) continue;
    env[key] = value;
  }
  env[pathKey] = [dirname(process.execPath), ...kept].join(delimiter);
  env.npm_config_cache = join(work, 'npm-cache');
  env.npm_config_update_notifier = 'false';
  return env;
}

function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    encoding: 'utf8',
    timeout: 240_000,
    shell: process.platform === 'win32' && !command.endsWith('.exe'),
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

function npm(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): SpawnSyncReturns<string> {
  return npmCli ? run(process.execPath, [npmCli, ...args], options) : run('npm', args, options);
}

/** The newest modification time of the files under `dir`. */
function newest(dir: string): { file: string; mtime: number } {
  let best = { file: dir, mtime: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const found = entry.isDirectory() ? newest(path) : { file: path, mtime: statSync(path).mtimeMs };
    if (found.mtime > best.mtime) best = found;
  }
  return best;
}

let packed: { filename: string; files: Array<{ path: string }> };

beforeAll(() => {
  // The tests before this one run from sources; the package holds the build. Rebuilding it here
  // would rewrite dist/ under the other test files that run at the same time, so it must be current.
  const source = newest(join(root, 'ts'));
  for (const built of ['dist/index.js', 'dist/cjs/index.js', 'dist/cli.js']) {
    const path = join(root, built);
    expect(existsSync(path) && statSync(path).mtimeMs >= source.mtime,
      `${built} is older than ${relative(root, source.file)}: run \`npm run build:ts\` (npm test does)`).toBe(true);
  }

  npm(['run', 'prebuild'], { cwd: root });
  const pack = npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: root });
  // `--ignore-scripts`: `prepare` would rebuild everything; the build above is what is packed.
  packed = (JSON.parse(pack.stdout) as Array<typeof packed>)[0]!;

  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  // Install scripts stay enabled: one that needed cargo would fail here.
  npm(['install', '--offline', '--no-audit', '--no-fund', join(work, packed.filename)], { cwd: project, env: userEnv() });
}, 300_000);

it('the user environment of these tests really has no Rust toolchain', () => {
  for (const tool of ['cargo', 'rustc', 'rustup']) {
    const result = spawnSync(tool, ['--version'], { env: userEnv(), encoding: 'utf8' });
    expect(result.error, `${tool} is still on PATH`).toMatchObject({ code: 'ENOENT' });
  }
});

it('the tarball holds the builds, the prebuilt addon, the types, README and LICENSE, and nothing else', () => {
  const files = packed.files.map((file) => file.path).sort();
  for (const expected of [
    'package.json', 'README.md', 'LICENSE',
    'dist/index.js', 'dist/index.d.ts', 'dist/cli.js', 'dist/native/binding.js', 'dist/native/package-root.cjs',
    'dist/cjs/package.json', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/native/package-root.cjs',
    `prebuilds/${prebuild}/ferrowsgi.node`,
  ]) {
    expect(files).toContain(expected);
  }
  const allowed = /^(package\.json|README\.md|LICENSE|dist\/.+\.(js|cjs|d\.ts|d\.cts)|dist\/cjs\/package\.json|prebuilds\/[^/]+\/ferrowsgi(\.musl)?\.node)$/;
  expect(files.filter((file) => !allowed.test(file))).toEqual([]);
  // Users get no sources, no Rust, no local build and no install script.
  const manifest = createRequire(import.meta.url)(join(project, 'node_modules', 'ferrowsgi', 'package.json')) as {
    scripts?: Record<string, string>;
  };
  for (const hook of ['preinstall', 'install', 'postinstall']) expect(manifest.scripts?.[hook]).toBeUndefined();
  expect(existsSync(join(project, 'node_modules', 'ferrowsgi', 'native'))).toBe(false);
  expect(existsSync(join(project, 'node_modules', 'ferrowsgi', 'binding.gyp'))).toBe(false);
});

/** A request served by the installed package, from a module in the consumer project. */
const serveOnce = (load: string) => `${load}
const srv = server(listen(['127.0.0.1', 0]), (env, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [env.REQUEST_METHOD + ' ' + env.PATH_INFO + ' via ' + env.SERVER_PROTOCOL];
}, { log: () => {} });
srv.listening.then(async () => {
  const response = await fetch('http://127.0.0.1:' + srv.address.port + '/from%20the%20package?x=1');
  const addons = process.report.getReport().sharedObjects.filter((file) => file.endsWith('.node'));
  console.log(JSON.stringify({
    status: response.status,
    type: response.headers.get('content-type'),
    body: await response.text(),
    addons,
  }));
  await srv.close();
});
`;

function checkServed(stdout: string): void {
  const result = JSON.parse(stdout) as { status: number; type: string; body: string; addons: string[] };
  expect(result).toMatchObject({ status: 200, type: 'text/plain', body: 'GET /from the package via HTTP/1.1' });
  // The only addon loaded is the prebuilt one inside the installed package.
  const expected = join(project, 'node_modules', 'ferrowsgi', 'prebuilds', prebuild, 'ferrowsgi.node');
  expect(result.addons.map((file) => realpathSync(file))).toEqual([realpathSync(expected)]);
}

it('ESM: import from ferrowsgi serves a request with the prebuilt addon', () => {
  writeFileSync(join(project, 'esm.mjs'), serveOnce("import { server, listen } from 'ferrowsgi';"));
  checkServed(run(process.execPath, ['esm.mjs'], { cwd: project, env: userEnv() }).stdout);
});

it('CommonJS: require(\'ferrowsgi\') serves a request with the prebuilt addon', () => {
  writeFileSync(join(project, 'cjs.cjs'), serveOnce("const { server, listen } = require('ferrowsgi');"));
  checkServed(run(process.execPath, ['cjs.cjs'], { cwd: project, env: userEnv() }).stdout);
});

it('the .d.ts files type the public API for ESM and CommonJS consumers', () => {
  const app = `
function app(env: Environ, startResponse: StartResponse): Body {
  const method: string = env.REQUEST_METHOD;
  const input: Input = env['wsgi.input'];
  const hooks: PostHook[] = env['eventlet.posthooks'];
  const forwarded: string | undefined = env.HTTP_X_FORWARDED_FOR;
  void input.read(10).then((bytes: Buffer) => bytes.length);
  hooks.push([(e: Environ, note: string) => console.log(e.PATH_INFO, note), ['done']]);
  const write: WriteCallable = startResponse('200 OK', [['Content-Type', 'text/plain']]);
  write(method + String(forwarded));
  return ['ok'];
}
const options: ServerOptions = { maxSize: 8, keepalive: 5, logFormat: '%(status_code)s', log: (line: string) => void line };
const listener: Listener = listen(['127.0.0.1', 0], { backlog: 10 });
const srv: Server = server(listener, app, options);
void srv.close({ timeout: 1 });
// @ts-expect-error an unknown option is a type error, so the types are not \`any\`
server(listener, app, { maxSixe: 1 });
// @ts-expect-error the environ's wsgi.input is an Input, not a string
const wrong: string = ({} as Environ)['wsgi.input'];
void wrong;
`;
  writeFileSync(join(project, 'types-esm.mts'),
    `import { server, listen } from 'ferrowsgi';\nimport type { Body, Environ, Input, Listener, PostHook, Server, ServerOptions, StartResponse, WriteCallable } from 'ferrowsgi';\n${app}`);
  writeFileSync(join(project, 'types-cjs.cts'),
    `import ferrowsgi = require('ferrowsgi');\nconst { server, listen } = ferrowsgi;\ntype Body = ferrowsgi.Body; type Environ = ferrowsgi.Environ; type Input = ferrowsgi.Input; type Listener = ferrowsgi.Listener; type PostHook = ferrowsgi.PostHook; type Server = ferrowsgi.Server; type ServerOptions = ferrowsgi.ServerOptions; type StartResponse = ferrowsgi.StartResponse; type WriteCallable = ferrowsgi.WriteCallable;\n${app}`);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  run(process.execPath, [
    tsc, '--noEmit', '--strict', '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext',
    '--types', 'node', '--typeRoots', join(root, 'node_modules', '@types'), 'types-esm.mts', 'types-cjs.cts',
  ], { cwd: project, env: userEnv() });
});

it('the ferrowsgi bin serves an app from the consumer project and closes on SIGTERM', async () => {
  const version = run(process.execPath, [join(project, 'node_modules', 'ferrowsgi', 'dist', 'cli.js'), '--version'], { cwd: project, env: userEnv() });
  expect(version.stdout).toMatch(/^ferrowsgi \d+\.\d+\.\d+/);

  writeFileSync(join(project, 'app.mjs'),
    "export function app(env, startResponse) {\n  startResponse('200 OK', [['Content-Type', 'text/plain']]);\n  return ['served by the bin'];\n}\n");
  // node_modules/.bin/ferrowsgi is what `npx ferrowsgi` runs.
  const bin = join(project, 'node_modules', '.bin', process.platform === 'win32' ? 'ferrowsgi.cmd' : 'ferrowsgi');
  expect(existsSync(bin)).toBe(true);
  const child = spawn(bin, ['app', '--bind', '127.0.0.1:0'], {
    cwd: project, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32',
  });
  try {
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (data: Buffer) => {
        stderr += data.toString('utf8');
        const match = /listening on (http:\/\/\S+)/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`the bin exited with ${code}:\n${stderr}`)));
    });
    const response = await fetch(`${url}/`);
    expect(await response.text()).toBe('served by the bin');
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    // Windows has no SIGTERM to catch: there the kill ends the process outright.
    if (process.platform !== 'win32') expect(await exited).toBe(0);
  } finally {
    child.kill('SIGKILL');
  }
});

it('on a platform without a prebuilt binary, the error lists the included platforms and how to build one', () => {
  // The same package, its binary moved to a platform this machine is not.
  const elsewhere = join(work, 'elsewhere');
  const installed = join(elsewhere, 'node_modules', 'ferrowsgi');
  cpSync(join(project, 'node_modules', 'ferrowsgi'), installed, { recursive: true });
  renameSync(join(installed, 'prebuilds', prebuild), join(installed, 'prebuilds', 'sunos-x64'));
  writeFileSync(join(elsewhere, 'package.json'), JSON.stringify({ name: 'elsewhere', private: true }));

  const loaded = spawnSync(process.execPath, ['-e', "require('ferrowsgi')"], { cwd: elsewhere, env: userEnv(), encoding: 'utf8' });
  expect(loaded.status).not.toBe(0);
  expect(loaded.stderr).toContain(`ferrowsgi: no native addon for ${prebuild}`);
  expect(loaded.stderr).toContain('This package includes prebuilt binaries for: sunos-x64.');
  expect(loaded.stderr).toContain('https://rustup.rs');
  expect(loaded.stderr).toContain('npm run prebuild');

  // The CLI still answers --version, and says the same without a stack trace when asked to serve.
  const cli = join(installed, 'dist', 'cli.js');
  expect(run(process.execPath, [cli, '--version'], { cwd: elsewhere, env: userEnv() }).stdout).toMatch(/^ferrowsgi \d/);
  writeFileSync(join(elsewhere, 'app.mjs'), 'export const app = () => [];\n');
  const serving = spawnSync(process.execPath, [cli, 'app.mjs'], { cwd: elsewhere, env: userEnv(), encoding: 'utf8' });
  expect(serving.status).toBe(1);
  expect(serving.stderr).toMatch(new RegExp(`^ferrowsgi: no native addon for ${prebuild}`));
  expect(serving.stderr).toContain('sunos-x64');
  expect(serving.stderr).not.toMatch(/^\s+at /m);
});
