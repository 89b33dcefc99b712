#!/usr/bin/env node
// The last step of `npm run build:ts`: dist/cjs/ holds the CommonJS build (tsconfig.cjs.json), but
// the package says "type": "module", so Node would read those .js files as ESM. A package.json
// there with "type": "commonjs" makes them CommonJS again, for `require('ferrowsgi')`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cjs');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'package.json'), '{ "type": "commonjs" }\n');
