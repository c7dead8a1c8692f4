// Three kinds of test, one runner: pure unit specs, integration specs against the
// local Postgres/NATS, and end-to-end specs that start the real service processes.
const aliases = {
  '^@broker/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
  '^(\\.{1,2}/.*)\\.js$': '$1',
};
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    },
  ],
};
const base = { rootDir: __dirname, moduleNameMapper: aliases, transform, testEnvironment: 'node' };

module.exports = {
  reporters: ['default', '<rootDir>/test/setup/summary-reporter.cjs'],
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools}/**/*.unit.spec.ts'] },
    {
      ...base,
      displayName: 'int',
      testMatch: ['<rootDir>/{apps,libs,tools}/**/*.int.spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/setup/int-timeout.cjs'],
    },
    {
      ...base,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e.spec.ts'],
      globalSetup: '<rootDir>/test/build-once.cjs',
      setupFilesAfterEnv: ['<rootDir>/test/setup/e2e-timeout.cjs'],
    },
  ],
};
