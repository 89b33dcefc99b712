import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Vite compiles .ts/.mts only by default; ts/native/package-root.cts is the loader's one .cts.
  esbuild: { include: /\.[cm]?tsx?$/ },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20000,
    hookTimeout: 20000,
    pool: 'forks',
    // upload-memory.test.ts measures live memory after explicit collections.
    poolOptions: { forks: { execArgv: ['--expose-gc'] } },
    reporters: ['default'],
  },
});
