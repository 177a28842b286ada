// The house rules that keep procwire's layers apart. `pnpm lint` runs this,
// and `pnpm test` runs `pnpm lint` first, so a layer violation fails CI.
//
// The layers (see CONTRIBUTING.md):
// - core knows nothing of transports, the addon or the OS: it sees links;
// - a transport's folder imports no other transport's folder: what two
//   transports share lives in a folder named for what it is;
// - nothing imports in a cycle.
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

/** The folders of packages/transports/src that each hold one transport. */
const TRANSPORTS = ['unix', 'tcp', 'socketpair', 'pipe', 'fifo', 'mq', 'shm', 'npipe', 'mailslot'];

/** Core may use these Node modules only: none of them names an OS object. */
const CORE_FORBIDDEN_NODE = ['node:fs', 'node:net', 'node:child_process', 'node:os', 'node:dgram', 'node:tls', 'node:worker_threads'];

const layerOfCore = {
  files: ['packages/core/src/**/*.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: CORE_FORBIDDEN_NODE.map((name) => ({ name, message: 'core sees links, never OS objects: this belongs in a transport' })),
        patterns: [
          { group: ['@procwire/transports', '@procwire/transports/*'], message: 'core imports no transport' },
          { group: ['@procwire/native', '@procwire/native/*'], message: 'core imports no native code' },
          { group: ['procwire', 'procwire/*', '@procwire/sync', '@procwire/sync/*'], message: 'core is the bottom layer' },
          { group: ['**/transports/**', '**/native/**'], message: 'core imports no transport and no native code' },
        ],
      },
    ],
  },
};

/** One block per transport folder: it may not reach into any other transport folder. */
const layerOfTransports = TRANSPORTS.map((name) => ({
  files: [`packages/transports/src/${name}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: TRANSPORTS.filter((other) => other !== name).map((other) => ({
          group: [`../${other}`, `../${other}/*`, `**/src/${other}/*`],
          message: `a transport imports no other transport (${name} -> ${other}); move what they share into a shared folder`,
        })),
      },
    ],
  },
}));

/** Shared transport folders serve transports; they import none of them. */
const layerOfSharedTransportPieces = {
  files: ['packages/transports/src/*/**/*.ts'],
  ignores: TRANSPORTS.map((name) => `packages/transports/src/${name}/**`),
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: TRANSPORTS.flatMap((name) => [`../${name}`, `../${name}/*`]),
            message: 'a shared transport piece imports no transport; the registry is the only place that knows them all',
          },
        ],
      },
    ],
  },
};

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/build/**', '**/build-*/**', 'bench/results/**', '**/*.d.ts', 'test/.scratch/**'],
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { ecmaVersion: 'latest', sourceType: 'module' },
    },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    settings: {
      // Sources import './x.js' and mean './x.ts' (NodeNext): resolve it so.
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'], extensionAlias: { '.js': ['.ts', '.js'] } })],
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
    },
  },
  layerOfCore,
  ...layerOfTransports,
  layerOfSharedTransportPieces,
);
