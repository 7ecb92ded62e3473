// Jest 29 with ts-jest, type-checking every test (no isolatedModules). There is deliberately no transform for
// node_modules: the package's CommonJS build (its "require" condition) must load as it is.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 30000,
};
