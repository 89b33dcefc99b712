// The directory the ferrowsgi package lives in, for the addon loader.
//
// A .cts file because it is the one module that must know where it is on disk in both builds:
// the ESM build (dist/) has no `__dirname`, and the CommonJS build (dist/cjs/) cannot even parse
// `import.meta`. TypeScript always emits a .cts file as CommonJS, so `__dirname` works from
// ESM (which imports it) and from CommonJS alike.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PACKAGE_NAME = 'ferrowsgi';

/** Whether `dir` holds ferrowsgi's own package.json (dist/cjs/ has a bare one of its own). */
function isPackageRoot(dir: string): boolean {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
    return manifest.name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/**
 * Walks up from this file: ts/native/ in a checkout run from sources, dist/native/ or
 * dist/cjs/native/ in a build, installed or not.
 */
function findPackageRoot(start: string): string {
  for (let dir = start; ; ) {
    if (isPackageRoot(dir)) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`ferrowsgi: cannot find the package's package.json above ${start}`);
    dir = parent;
  }
}

export const packageRoot: string = findPackageRoot(__dirname);
