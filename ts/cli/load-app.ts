// Finds MODULE, imports it and takes the app from its EXPORT, as gunicorn does with `module:app`.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { App } from '../app.js';
import { UsageError } from './errors.js';

/** Tried in order after the path as given, so that `ferrowsgi app` finds app.js like `gunicorn app`. */
const EXTENSIONS = ['.js', '.mjs', '.cjs'];
const TYPESCRIPT = /\.[cm]?tsx?$/;

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/** The file MODULE names, relative to `cwd`. */
export function findModule(module: string, cwd: string): string {
  const base = resolve(cwd, module);
  const tried = [base, ...EXTENSIONS.map((extension) => base + extension)];
  const found = tried.find(isFile);
  if (found === undefined) {
    throw new UsageError(`cannot find module ${JSON.stringify(module)} (looked for ${tried.join(', ')})`);
  }
  return found;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}

/**
 * Imports the module. Only what the user got wrong is a UsageError; an app that throws while it
 * loads is the app's own error, and its stack trace is what helps.
 */
async function importModule(file: string, module: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code === 'ERR_UNKNOWN_FILE_EXTENSION' && TYPESCRIPT.test(file)) {
      throw new UsageError(
        `cannot import ${JSON.stringify(module)}: this Node.js does not load TypeScript by itself; ` +
          "compile it, or run with a loader: NODE_OPTIONS='--import tsx' ferrowsgi …",
      );
    }
    throw err;
  }
}

/** The app `module` exports as `exportName`: a named ESM export, or a property of a CommonJS module.exports. */
export async function loadApp(module: string, exportName: string, cwd: string = process.cwd()): Promise<App> {
  const file = findModule(module, cwd);
  const namespace = await importModule(file, module);
  let app = namespace[exportName];
  // Node finds most CommonJS exports by reading the source; `module.exports = build()` it cannot.
  const commonjs = namespace.default;
  if (app === undefined && exportName !== 'default' && typeof commonjs === 'object' && commonjs !== null) {
    app = (commonjs as Record<string, unknown>)[exportName];
  }
  if (app === undefined) {
    const names = Object.keys(namespace).filter((name) => name !== '__esModule' && name !== 'module.exports');
    const found = names.length > 0 ? `its exports: ${names.join(', ')}` : 'it exports nothing';
    throw new UsageError(`${JSON.stringify(module)} has no export ${JSON.stringify(exportName)} (${found}); name one with MODULE:EXPORT`);
  }
  if (typeof app !== 'function') {
    throw new UsageError(`export ${JSON.stringify(exportName)} of ${JSON.stringify(module)} is ${describe(app)}, not an app function`);
  }
  return app as App;
}
