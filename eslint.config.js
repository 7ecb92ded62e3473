// ESLint (flat config): @eslint/js recommended + typescript-eslint recommendedTypeChecked. Formatting is Prettier's
// job (npm run format); these configs enable no stylistic rules.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// The Node globals the plain JavaScript files use (TypeScript files get theirs from @types/node).
const nodeGlobals = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'AbortSignal',
    'AbortController',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'fetch',
    'performance',
  ].map((name) => [name, 'readonly']),
);

export default defineConfig(
  {
    ignores: [
      'dist*/**',
      'coverage/**',
      '**/node_modules/**',
      'test/conformance/fixtures/**',
      '.readme-snippets/**',
      '.data/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Indexed reads known to be in range carry `!` (what noUncheckedIndexedAccess would ask for); the rule calls them unnecessary.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Implementations of Promise-returning interfaces (stores, transports) stay `async` so that a throw is a rejection.
      '@typescript-eslint/require-await': 'off',
      // A `let` that a closure written above its assignment reads stays a `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // An abort's reason and a caught error are passed on as they are.
      '@typescript-eslint/prefer-promise-reject-errors': [
        'error',
        { allowThrowingAny: true, allowThrowingUnknown: true },
      ],
      // Input validation rejects control characters on purpose, by matching them.
      'no-control-regex': 'off',
      // `_name` marks what a destructuring drops on purpose (e.g. a secret left out of a view).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read untyped JSON (supertest's res.body, JSON.parse, the recorded Convoy corpus) and check it with expect.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  // The consumer apps are type-checked against the packed package, installed only by test/consumers/run.mjs.
  {
    files: ['test/consumers/*/**/*.ts'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  // Plain JavaScript (build script, Jest configs, child-process helpers): no type information, Node globals.
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: nodeGlobals },
  },
  // The CommonJS consumer app's Jest configs.
  {
    files: ['test/consumers/nest11-cjs/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
);
