import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (`main`) and ESM (`module`) copies. Vite would hand tests the ESM
    // one while Pothos/yoga (run by Node) load the CJS one, and graphql refuses types "from
    // another module or realm". Pin tests to the copy Node loads.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Migrates one template database; each test file clones it (or gets its own PGlite).
    globalSetup: ['test/setup/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    // Two cores here; PostgreSQL needs its share.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
