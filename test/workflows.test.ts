// .github/workflows/*.yml against GitHub's workflow schema, offline (action-validator, from npm):
// a typo there shows up here rather than on the first push.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { root } from './helpers/cli-process.js';

const workflows = join(root, '.github', 'workflows');
const packageJson = createRequire(import.meta.url).resolve('@action-validator/cli/package.json');
const validator = join(dirname(packageJson), 'cli.mjs');

it('there are the CI and prebuild workflows', () => {
  expect(readdirSync(workflows).sort()).toEqual(['ci.yml', 'prebuild.yml']);
});

for (const file of ['ci.yml', 'prebuild.yml']) {
  it(`${file} is a valid GitHub Actions workflow`, () => {
    const result = spawnSync(process.execPath, [validator, join(workflows, file)], { encoding: 'utf8' });
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });
}

it('the validator rejects a broken workflow, so passing means something', () => {
  const broken = 'name: broken\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    stepz:\n      - run: echo\n';
  const dir = mkdtempSync(join(tmpdir(), 'ferrowsgi-workflow-'));
  try {
    writeFileSync(join(dir, 'broken.yml'), broken);
    const result = spawnSync(process.execPath, [validator, join(dir, 'broken.yml')], { encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toContain("Additional property 'stepz' is not allowed");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
