// Three kinds of test, one runner: pure unit specs, integration specs against the
// local Postgres/NATS, and end-to-end specs that start the real service processes.
const aliases = {
  '^@broker/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
  '^(\\.{1,2}/.*)\\.js$': '$1',
};
// Specs run as CommonJS, compiled one file at a time (types are checked by `npm run typecheck`).
const transform = {
  '^.+\\.ts$': [
    'ts-jest',
    {
      diagnostics: false,
      tsconfig: {
        module: 'CommonJS',
        moduleResolution: 'Node10',
        target: 'ES2022',
        isolatedModules: true,
        esModuleInterop: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        verbatimModuleSyntax: false,
      },
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
