import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed operations for the tests (and any TypeScript client): every operation in
 * test/**\/*.graphql becomes a TypedDocumentNode in test/generated/, checked against the
 * committed schema.graphql.
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/**/*.graphql'],
  ignoreNoDocuments: false,
  emitLegacyCommonJSImports: false,
  generates: {
    'test/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', JSON: 'unknown', ID: 'string' },
      },
    },
  },
};

export default config;
