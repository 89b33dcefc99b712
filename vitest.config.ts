import { defineConfig } from 'vitest/config';

/**
 * Where a server's I/O runs: by default on the JS thread (crates/node/src/inline_runtime.rs);
 * with FERROWSGI_IO_THREADS on I/O threads of its own. The second project runs the files about
 * the wire, bodies, TLS, timeouts and lifecycles again in that mode, so both stay correct.
 */
const IO_THREAD_FILES = [
  'bad-clients', 'hundred-continue', 'input', 'leaks', 'lifecycle', 'pipelining', 'pushed-bodies',
  'runtime', 'timeouts', 'tls', 'wire',
].map((name) => `test/${name}.test.ts`);

export default defineConfig({
  // Vite compiles .ts/.mts only by default; ts/native/package-root.cts is the loader's one .cts.
  esbuild: { include: /\.[cm]?tsx?$/ },
  test: {
    testTimeout: 20000,
    hookTimeout: 20000,
    pool: 'forks',
    // upload-memory.test.ts measures live memory after explicit collections.
    poolOptions: { forks: { execArgv: ['--expose-gc'] } },
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'inline', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'io-thread', include: IO_THREAD_FILES, env: { FERROWSGI_IO_THREADS: '1' } } },
    ],
  },
});
