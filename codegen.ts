import type { CodegenConfig } from '@graphql-codegen/cli';

/** Scalars as both clients see them on the wire. */
const clientConfig = {
  useTypeImports: true,
  enumsAsTypes: true,
  scalars: { DateTime: 'string', JSON: 'unknown', ID: 'string' },
};

/**
 * Typed operations, checked against the committed schema.graphql (an operation that no
 * longer matches it fails codegen, and so `npm test`, `npm run build` and `npm run typecheck`):
 * - test/**\/*.graphql → test/generated/ for the tests;
 * - src/dashboard/operations/*.graphql → src/dashboard/generated/ for the dashboard.
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  ignoreNoDocuments: false,
  emitLegacyCommonJSImports: false,
  generates: {
    'test/generated/': {
      documents: ['test/**/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: clientConfig,
    },
    'src/dashboard/generated/': {
      documents: ['src/dashboard/operations/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: clientConfig,
    },
  },
};

export default config;
