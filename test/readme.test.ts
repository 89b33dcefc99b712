// The README's TypeScript snippets type-check against the package as users import it (the
// self-reference 'ferrowsgi' resolves to dist/ and its .d.ts files, which `npm test` builds
// first). The runnable versions of the same code are in examples/ and run in examples.test.ts;
// this catches the README drifting from the API.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** The ```ts blocks of the README, in order. */
function typeScriptBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
}

/** Type errors of `source` compiled as one ES module at the package root. */
function typeErrors(source: string): string[] {
  const file = join(root, 'readme-snippets.ts');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => (name === file ? source : readFile(name));
  host.fileExists = (name) => name === file || fileExists(name);
  host.getSourceFile = (name, language, ...rest) =>
    name === file ? ts.createSourceFile(name, source, language, true) : getSourceFile(name, language, ...rest);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (diagnostic.file === undefined || diagnostic.start === undefined) return text;
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    return `line ${line + 1}: ${text}\n  ${source.split('\n')[line]}`;
  });
}

it("the README's TypeScript snippets compile against the published types", () => {
  const blocks = typeScriptBlocks(readFileSync(join(root, 'README.md'), 'utf8'));
  // The install section shows the ESM import and the CommonJS require side by side: two
  // alternatives, not one program. Every other snippet builds on the ones before it.
  const program = blocks.filter((block) => !block.includes("require('ferrowsgi')"));
  expect(program.length).toBeGreaterThanOrEqual(4);
  const source = program.join('\n');
  // A module with an ESM import, as users write it (package.json says "type": "module").
  expect(source).toMatch(/^import .* from 'ferrowsgi';$/m);
  expect(typeErrors(source)).toEqual([]);
}, 60_000);
