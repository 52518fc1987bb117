// GraphQL Code Generator's client preset, set up as a frontend team sets it
// up (docs/trusted-documents.md): typed documents from the operations
// written in src/, and the persisted-documents manifest the gateway loads
// with TRUSTED_DOCUMENTS_FILE. Paths are relative to the working directory,
// this folder: run `npx graphql-codegen` here (the e2e test does).
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../../schema.graphqls',
  documents: ['src/**/*.ts', '!src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: {
        fragmentMasking: false,
        // sha256: the hash GraphQL over HTTP's "sha256:" ids and APQ use.
        persistedDocuments: { hashAlgorithm: 'sha256' },
      },
      config: {
        // Node's ESM resolution wants the extension in relative imports.
        importExtension: '.js',
        useTypeImports: true,
        enumsAsTypes: true,
      },
    },
  },
};

export default config;
